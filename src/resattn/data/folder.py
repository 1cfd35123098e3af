"""Image-folder datasets (ImageNet layout and generic ``root/<split>/<class>/<image>`` trees) with clear load errors."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from PIL import Image
from torchvision.datasets import ImageFolder

__all__ = ["ImageFolderDataset", "ImageLoadError", "load_rgb_image"]


class ImageLoadError(ValueError):
    """An image file could not be opened or decoded.

    Args:
        message: Human-readable description; always contains the file path.
        path: The offending file, when known.
    """

    # The single-string constructor matters: DataLoader workers re-raise exceptions as ``type(exc)(message)``.
    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


def load_rgb_image(path: str) -> Image.Image:
    """Opens an image file and decodes it fully as RGB.

    Args:
        path: Image file.

    Returns:
        The decoded RGB image.

    Raises:
        ImageLoadError: If the file is missing, unreadable, truncated or not an image. The message names the file.
    """
    try:
        with open(path, "rb") as f:
            image = Image.open(f)
            # convert() forces the full decode now, so a truncated file fails here, with its path, not in a transform.
            return image.convert("RGB")
    # PIL signals a bad file with OSError, SyntaxError, ValueError, DecompressionBombError...: catch them all.
    except Exception as exc:
        raise ImageLoadError(f"Cannot load image {path!r}: {type(exc).__name__}: {exc}", path) from exc


class ImageFolderDataset(ImageFolder):
    """``torchvision.datasets.ImageFolder`` over ``root/<class>/<image>`` that reports bad images by path.

    Args:
        root: Directory whose sub-directories are the classes (sorted names give the label order).
        transform: Optional callable applied to each decoded RGB PIL image.

    Raises:
        FileNotFoundError: If ``root`` is not a directory or holds no class folders with images.
    """

    def __init__(self, root: str, transform: Callable[[Any], Any] | None = None) -> None:
        root = os.path.expanduser(root)
        if not os.path.isdir(root):
            raise FileNotFoundError(
                f"Image folder {root!r} does not exist; expected a directory laid out as {root}/<class_name>/<image>"
            )
        super().__init__(root, transform=transform, loader=load_rgb_image)
