"""Fashion-MNIST held fully in memory, located from local IDX files before any download."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import torch

from .base import TargetsDataset
from .idx import read_idx

__all__ = [
    "DATA_ENV_VAR",
    "FASHION_MNIST_CLASSES",
    "SYSTEM_FASHION_MNIST_DIRS",
    "FashionMNIST",
    "fashion_mnist_search_dirs",
    "load_fashion_mnist",
]

DATA_ENV_VAR = "RESATTN_DATA"
# Where `apt-get install dataset-fashion-mnist` puts the gzipped IDX files. A tuple so tests can monkeypatch it.
SYSTEM_FASHION_MNIST_DIRS: tuple[str, ...] = ("/usr/share/datasets/fashion-mnist",)
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_SPLIT_PREFIX = {"train": "train", "test": "t10k"}
_IMAGE_SIZE = 28


def fashion_mnist_search_dirs(root: str | None = None) -> list[str]:
    """Lists the directories searched for the IDX files, in priority order.

    Args:
        root: Optional user-given data directory, searched first.

    Returns:
        ``root``, ``root/fashion-mnist``, ``root/FashionMNIST/raw`` (torchvision's download layout), the same three
        under ``$RESATTN_DATA``, then the system dataset directory. Duplicates are removed.
    """
    dirs: list[str] = []
    for base in (root, os.environ.get(DATA_ENV_VAR)):
        if base:
            base = os.path.expanduser(base)
            dirs += [base, os.path.join(base, "fashion-mnist"), os.path.join(base, "FashionMNIST", "raw")]
    dirs += list(SYSTEM_FASHION_MNIST_DIRS)
    return list(dict.fromkeys(dirs))


def _find_split_files(directory: str, split: str) -> tuple[str, str] | None:
    prefix = _SPLIT_PREFIX[split]
    found = []
    for stem in (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"):
        # Prefer the uncompressed file: no decompression cost.
        candidates = (os.path.join(directory, stem + ext) for ext in ("", ".gz"))
        path = next((p for p in candidates if os.path.isfile(p)), None)
        if path is None:
            return None
        found.append(path)
    return found[0], found[1]


def _download(root: str | None, split: str) -> str:
    import torchvision  # local import: only needed on the rare download path

    target = root or os.environ.get(DATA_ENV_VAR) or os.path.expanduser("~/.cache/resattn")
    torchvision.datasets.FashionMNIST(target, train=split == "train", download=True)
    return os.path.join(target, "FashionMNIST", "raw")


def load_fashion_mnist(
    split: str = "train", root: str | None = None, download: bool = False
) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Loads one Fashion-MNIST split as tensors.

    Args:
        split: ``"train"`` (60000 images) or ``"test"`` (10000 images).
        root: Directory searched first (see :func:`fashion_mnist_search_dirs`).
        download: Download with torchvision into ``root`` (or ``$RESATTN_DATA``, or ``~/.cache/resattn``) when no
            local copy is found.

    Returns:
        ``(images, labels, directory)``: uint8 images ``(N, 28, 28)``, int64 labels ``(N,)`` and where they came from.

    Raises:
        ValueError: On an unknown split or malformed files.
        FileNotFoundError: If no copy is found and ``download`` is false; the message lists every place looked.
    """
    if split not in _SPLIT_PREFIX:
        raise ValueError(f"Fashion-MNIST split must be one of {sorted(_SPLIT_PREFIX)}, got {split!r}")
    searched = fashion_mnist_search_dirs(root)
    files = next(((d, f) for d in searched if (f := _find_split_files(d, split)) is not None), None)
    if files is None and download:
        directory = _download(root, split)
        found = _find_split_files(directory, split)
        files = (directory, found) if found is not None else None
        searched.append(directory)
    if files is None:
        prefix = _SPLIT_PREFIX[split]
        looked = "\n".join(f"  - {d}" for d in searched)
        raise FileNotFoundError(
            f"Fashion-MNIST {split!r} split not found: no {prefix}-images-idx3-ubyte[.gz] + "
            f"{prefix}-labels-idx1-ubyte[.gz] in any of:\n{looked}\n"
            f"Fix: `apt-get install dataset-fashion-mnist`, or set {DATA_ENV_VAR}=/dir/with/idx/files, "
            "or pass a data root with --download to fetch it with torchvision."
        )
    directory, (image_path, label_path) = files
    images = read_idx(image_path, expected_ndim=3)
    labels = read_idx(label_path, expected_ndim=1)
    if images.dtype != torch.uint8 or tuple(images.shape[1:]) != (_IMAGE_SIZE, _IMAGE_SIZE):
        raise ValueError(
            f"{image_path!r}: expected uint8 images of shape (N, 28, 28), got {images.dtype} {tuple(images.shape)}"
        )
    if labels.shape[0] != images.shape[0]:
        raise ValueError(f"{label_path!r} has {labels.shape[0]} labels but {image_path!r} has {images.shape[0]} images")
    labels = labels.long()
    if labels.numel() and (labels.min() < 0 or labels.max() >= len(FASHION_MNIST_CLASSES)):
        raise ValueError(f"{label_path!r} has labels outside 0..{len(FASHION_MNIST_CLASSES) - 1}")
    return images, labels, directory


class FashionMNIST(TargetsDataset):
    """Fashion-MNIST split kept in memory as one uint8 tensor.

    Items are ``(transform(image), label)`` where ``image`` is a uint8 tensor ``(1, 28, 28)``; with no transform the
    raw uint8 tensor is returned. Use the ``fashion_mnist`` transform preset, which works on uint8 tensors directly.

    Attributes:
        data: uint8 tensor ``(N, 28, 28)``.
        targets: int64 tensor ``(N,)``.
        classes: The ten class names.
        source_dir: Directory the IDX files were read from.
    """

    def __init__(
        self,
        root: str | None = None,
        split: str = "train",
        transform: Callable[[Any], Any] | None = None,
        download: bool = False,
    ) -> None:
        self.data, targets, self.source_dir = load_fashion_mnist(split, root, download)
        self.targets = targets
        self.split = split
        self.transform = transform
        self.classes = list(FASHION_MNIST_CLASSES)

    def __len__(self) -> int:
        return self.data.shape[0]

    def __getitem__(self, index: int) -> tuple[Any, int]:
        image = self.data[index].unsqueeze(0)
        if self.transform is not None:
            image = self.transform(image)
        return image, self._labels[index]
