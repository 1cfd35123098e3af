"""CIFAR-10 / CIFAR-100 read from the original "python version" pickle batches, held in memory."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .base import TargetsDataset

__all__ = ["CIFAR", "CIFAR10_CLASSES"]

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

# Layout of the official archives after extraction.
_LAYOUT: dict[int, dict[str, Any]] = {
    10: {
        "dir": "cifar-10-batches-py",
        "train": [f"data_batch_{i}" for i in range(1, 6)],
        "test": ["test_batch"],
        "meta": "batches.meta",
        "label_key": "labels",
        "names_key": "label_names",
    },
    100: {
        "dir": "cifar-100-python",
        "train": ["train"],
        "test": ["test"],
        "meta": "meta",
        "label_key": "fine_labels",
        "names_key": "fine_label_names",
    },
}


def _load_pickle(path: str) -> dict[str, Any]:
    # Only ever called on files the user pointed us at; pickle executes code, so never use it on untrusted downloads
    # other than the official archive (which torchvision verifies by MD5).
    try:
        with open(path, "rb") as f:
            # latin1 is needed to unpickle numpy arrays written by Python 2, which is what the official files are.
            obj = pickle.load(f, encoding="latin1")
    except Exception as exc:  # a damaged pickle can fail in many ways; all mean the same thing to the user
        raise ValueError(f"CIFAR file {path!r} is not a readable pickle (corrupt or truncated?): {exc}") from exc
    if not isinstance(obj, dict):
        raise ValueError(f"CIFAR file {path!r} should hold a dict, got {type(obj).__name__}")
    # Python 3 writers use bytes keys (b'data'); Python 2 files unpickle with str keys. Accept both.
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _decode_names(names: list[Any]) -> list[str]:
    return [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names]


def _find_dir(root: str, num_classes: int) -> str | None:
    layout = _LAYOUT[num_classes]
    # Accept both `root` (containing the extracted folder) and the extracted folder itself.
    for directory in (os.path.join(root, layout["dir"]), root):
        if all(os.path.isfile(os.path.join(directory, f)) for f in (*layout["train"], *layout["test"], layout["meta"])):
            return directory
    return None


def _download(root: str, num_classes: int) -> None:
    import torchvision  # local import: only needed on the rare download path

    cls = torchvision.datasets.CIFAR10 if num_classes == 10 else torchvision.datasets.CIFAR100
    cls(root, train=True, download=True)


class CIFAR(TargetsDataset):
    """CIFAR-10 or CIFAR-100 split kept in memory as one uint8 tensor.

    Items are ``(transform(image), label)`` with ``image`` a uint8 tensor ``(3, 32, 32)`` (the ``cifar`` transform
    preset works on these directly); with no transform the uint8 tensor is returned.

    Args:
        root: Directory holding ``cifar-10-batches-py/`` or ``cifar-100-python/`` (or that folder itself).
        split: ``"train"`` or ``"test"``.
        num_classes: 10 or 100.
        transform: Optional callable applied to each image.
        download: Download the official archive with torchvision if the files are missing.

    Attributes:
        data: uint8 tensor ``(N, 3, 32, 32)``.
        targets: int64 tensor ``(N,)`` (fine labels for CIFAR-100).
        classes: Class names from the meta file.
    """

    def __init__(
        self,
        root: str,
        split: str = "train",
        num_classes: int = 10,
        transform: Callable[[Any], Any] | None = None,
        download: bool = False,
    ) -> None:
        if num_classes not in _LAYOUT:
            raise ValueError(f"CIFAR num_classes must be 10 or 100, got {num_classes}")
        if split not in ("train", "test"):
            raise ValueError(f"CIFAR split must be 'train' or 'test', got {split!r}")
        layout = _LAYOUT[num_classes]
        root = os.path.expanduser(root)
        directory = _find_dir(root, num_classes)
        if directory is None and download:
            _download(root, num_classes)
            directory = _find_dir(root, num_classes)
        if directory is None:
            raise FileNotFoundError(
                f"CIFAR-{num_classes} not found under {root!r}: expected {layout['dir']}/ with "
                f"{', '.join(layout['train'] + layout['test'] + [layout['meta']])}. "
                "Pass --download to fetch it, or point the data root at the extracted archive."
            )
        images, labels = [], []
        for name in layout[split]:
            path = os.path.join(directory, name)
            batch = _load_pickle(path)
            if "data" not in batch or layout["label_key"] not in batch:
                raise ValueError(f"CIFAR file {path!r} lacks 'data' or {layout['label_key']!r} (keys: {sorted(batch)})")
            data = np.asarray(batch["data"])
            if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
                raise ValueError(f"CIFAR file {path!r}: 'data' must be uint8 (N, 3072), got {data.dtype} {data.shape}")
            batch_labels = np.asarray(batch[layout["label_key"]], dtype=np.int64)
            if batch_labels.shape != (data.shape[0],):
                raise ValueError(f"CIFAR file {path!r}: {len(batch_labels)} labels for {data.shape[0]} images")
            images.append(data)
            labels.append(batch_labels)
        meta_path = os.path.join(directory, layout["meta"])
        meta = _load_pickle(meta_path)
        if layout["names_key"] not in meta:
            raise ValueError(f"CIFAR meta file {meta_path!r} lacks {layout['names_key']!r} (keys: {sorted(meta)})")
        self.classes = _decode_names(meta[layout["names_key"]])
        # Rows are 1024 R, then G, then B values of a row-major 32x32 image, i.e. already CHW.
        self.data = torch.from_numpy(np.concatenate(images).reshape(-1, 3, 32, 32))
        self.targets = torch.from_numpy(np.concatenate(labels))
        if self.targets.numel() and (self.targets.min() < 0 or self.targets.max() >= len(self.classes)):
            raise ValueError(f"CIFAR labels in {directory!r} fall outside 0..{len(self.classes) - 1}")
        self.split = split
        self.transform = transform

    def __len__(self) -> int:
        return self.data.shape[0]

    def __getitem__(self, index: int) -> tuple[Any, int]:
        image = self.data[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, self._labels[index]
