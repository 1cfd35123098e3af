"""Image-folder datasets (ImageNet layout, generic class-folder trees, checked file lists) with clear load errors."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.datasets import ImageFolder

__all__ = ["ImageFolderDataset", "ImageLoadError", "LabelledImages", "load_image", "load_rgb_image"]


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
    """Opens an image file and decodes it fully as RGB (see :func:`load_image`)."""
    return load_image(path, "RGB")


def load_image(path: str, mode: str = "RGB") -> Image.Image:
    """Opens an image file and decodes it fully in ``mode`` ("RGB", or "L" for one-channel models).

    Args:
        path: Image file.
        mode: PIL mode of the result.

    Returns:
        The decoded image.

    Raises:
        ImageLoadError: If the file is missing, unreadable, truncated or not an image. The message names the file.
    """
    try:
        with open(path, "rb") as f:
            image = Image.open(f)
            # convert() forces the full decode now, so a truncated file fails here, with its path, not in a transform.
            return image.convert(mode)
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


class LabelledImages(Dataset):
    """Images given as a list of ``(path, label)``, decoded in one PIL mode: the folder datasets after their check.

    Unlike ``ImageFolder`` it does not walk the disk itself, so files found unreadable beforehand can be left out
    and one-channel models get their images decoded as grayscale.

    Args:
        samples: ``(path, class index)`` pairs.
        classes: Class names, indexed by label.
        mode: PIL mode the images are decoded in ("L" or "RGB").
        transform: Optional callable applied to each decoded image.
    """

    def __init__(self, samples: Sequence[tuple[str, int]], classes: Sequence[str], mode: str = "RGB",
                 transform: Callable[[Any], Any] | None = None) -> None:
        self.samples = [(str(path), int(label)) for path, label in samples]
        self.classes = list(classes)
        self.mode = mode
        self.transform = transform
        self.targets = torch.tensor([label for _, label in self.samples], dtype=torch.long)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        path, label = self.samples[index]
        image = load_image(path, self.mode)
        return (self.transform(image) if self.transform is not None else image), label
