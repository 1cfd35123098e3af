"""Decode every file of an image folder once, before training: which are bad, their sizes, and which are grayscale.

A run that meets an unreadable file in its third epoch dies there; decoding each file up front turns that into one
list of paths at the start. The same pass says whether the images are grayscale, so nothing is decoded twice.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from PIL import Image

__all__ = ["ImageCheck", "check_image", "check_images", "is_grayscale"]

_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
_THUMBNAIL = 64  # grayness is tested on a thumbnail: identical channels stay identical under any resampling


@dataclass(frozen=True)
class ImageCheck:
    """Result of decoding one file: ``error`` is None for a good image, else the reason (``size`` is then None)."""

    path: str
    error: str | None = None
    size: tuple[int, int] | None = None  # (width, height)
    grayscale: bool = False


def is_grayscale(image: Image.Image) -> bool:
    """True when the image has one channel, or its colour channels are equal everywhere (grey saved as RGB)."""
    if image.mode in _GRAY_MODES:
        return True
    small = image.copy()
    small.thumbnail((_THUMBNAIL, _THUMBNAIL))
    rgb = np.asarray(small.convert("RGB"))
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())


def check_image(path: str) -> ImageCheck:
    """Decodes ``path`` completely; a missing, truncated, non-image or oversized file gives an ``error``."""
    try:
        with Image.open(path) as image:
            image.load()  # the whole decode: a truncated file fails here, not when a batch needs it
            return ImageCheck(path, None, image.size, is_grayscale(image))
    # PIL reports bad files with OSError, SyntaxError, ValueError, DecompressionBombError...: each is a bad file.
    except Exception as exc:
        return ImageCheck(path, f"{type(exc).__name__}: {exc}")


def check_images(paths: Sequence[str], workers: int | None = None, progress: bool = False) -> list[ImageCheck]:
    """Checks every file, in threads (PIL decodes without holding the GIL), in the order given.

    Args:
        paths: Files to decode.
        workers: Threads; default: the CPU count, at most 8.
        progress: Show a tqdm bar ("checking images").
    """
    from tqdm import tqdm

    workers = workers or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool, \
            tqdm(total=len(paths), desc="checking images", unit="img", disable=not progress) as bar:
        results = []
        for result in pool.map(check_image, paths):
            results.append(result)
            bar.update(1)
    return results
