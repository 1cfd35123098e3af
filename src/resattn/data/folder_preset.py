"""Choose the small-image (CIFAR-style) or large-image (ImageNet-style) preset of an image folder from its sizes.

The rule: if the median longer side of the images is at most :data:`SMALL_MAX_SIDE` pixels, the folder gets the
small-image preset (the CIFAR layout, ``attention56_cifar``, at the median size); otherwise the large-image preset
(the ImageNet layout, ``attention56``, at 224). The CIFAR layout reduces its input 4x in all (32 -> 8) and keeps
a small image's detail; the ImageNet layout reduces it 32x (224 -> 7), made for photographs of a few hundred pixels,
and would leave a 32-pixel image one pixel wide.

Only image headers are read (PIL reads the size without decoding), from at most :data:`SAMPLE` files spread evenly
over the sorted list, so the choice is quick on a large folder and the same every time.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

__all__ = ["DEFAULT_MODELS", "LARGE_IMG_SIZE", "SAMPLE", "SMALL_MAX_SIDE", "PresetChoice", "choose_preset",
           "sample_sizes"]

SMALL_MAX_SIDE = 64
LARGE_IMG_SIZE = 224
MIN_SMALL_SIZE = 8  # the CIFAR-layout networks' smallest input (model.min_input_size)
SAMPLE = 256
DEFAULT_MODELS = {"small": "attention56_cifar", "large": "attention56"}


@dataclass(frozen=True)
class PresetChoice:
    """``preset`` ("small" / "large"), its default ``img_size`` and ``model``, and the ``reason`` in words."""

    preset: str
    img_size: int
    model: str
    reason: str


def sample_sizes(paths: Sequence[str], limit: int = SAMPLE) -> list[tuple[int, int]]:
    """``(width, height)`` of up to ``limit`` files spread over ``paths``; unreadable files are skipped here (the
    decode check reports them)."""
    step = max(1, len(paths) // limit)
    sizes = []
    for path in list(paths)[::step][:limit]:
        try:
            with Image.open(path) as image:
                sizes.append(image.size)
        except Exception:  # noqa: S112 - a bad file does not vote; check_images lists it by path
            continue
    return sizes


def choose_preset(sizes: Sequence[tuple[int, int]], preset: str | None = None) -> PresetChoice:
    """The preset for images of these sizes (see the module docstring for the rule), or ``preset`` if given."""
    if preset is not None and preset not in DEFAULT_MODELS:
        raise ValueError(f"Unknown --preset {preset!r}; choose small (CIFAR-style) or large (ImageNet-style)")
    if not sizes:
        raise ValueError("No readable image to choose a preset from; pass --preset small|large and --img-size")
    side = int(statistics.median(max(w, h) for w, h in sizes))
    seen = f"median longer side {side} px over {len(sizes)} image(s)"
    if preset is not None:
        why = f"given (--preset {preset}); {seen}"
    else:
        preset = "small" if side <= SMALL_MAX_SIDE else "large"
        why = f"{seen} {'<=' if preset == 'small' else '>'} {SMALL_MAX_SIDE}"
    if preset == "small":
        img_size = min(max(side, MIN_SMALL_SIZE), SMALL_MAX_SIDE)
        return PresetChoice("small", img_size, DEFAULT_MODELS["small"],
                            f"{why}: small-image (CIFAR-style) preset at {img_size}x{img_size}")
    return PresetChoice("large", LARGE_IMG_SIZE, DEFAULT_MODELS["large"],
                        f"{why}: large-image (ImageNet-style) preset at {LARGE_IMG_SIZE}x{LARGE_IMG_SIZE}")
