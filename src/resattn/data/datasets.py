"""Dataset factory: one name -> one dataset object, plus static metadata for building models and transforms."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from typing import Any

from torch.utils.data import Dataset

from .cifar import CIFAR, CIFAR10_CLASSES
from .fake import FakeDataset
from .fashion_mnist import FASHION_MNIST_CLASSES, FashionMNIST
from .folder import ImageFolderDataset
from .transforms import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    CIFAR100_MEAN,
    CIFAR100_STD,
    FASHION_MNIST_MEAN,
    FASHION_MNIST_STD,
    IMAGENET_MEAN,
    IMAGENET_STD,
)

__all__ = ["DATASET_NAMES", "create_dataset", "dataset_info"]

DATASET_NAMES: tuple[str, ...] = ("fashion_mnist", "cifar10", "cifar100", "imagenet", "folder", "fake")

# Splits each dataset understands; None means "any sub-directory name" (folder datasets).
_SPLITS: dict[str, tuple[str, ...] | None] = {
    "fashion_mnist": ("train", "test"),
    "cifar10": ("train", "test"),
    "cifar100": ("train", "test"),
    "imagenet": ("train", "val"),
    "folder": None,
    "fake": ("train", "val", "test"),
}
_FAKE_DEFAULTS = {"num_classes": 10, "in_chans": 3, "image_size": 32}
# Enough held-out images for a measurement that can fail, few enough that the many short runs of the tests, each
# ending with a test evaluation, stay short on a CPU.
_FAKE_SIZES = {"train": 1000, "val": 250, "test": 250}


def _canonical_name(name: str) -> str:
    key = name.strip().lower().replace("-", "_")
    if key not in DATASET_NAMES:
        close = difflib.get_close_matches(key, DATASET_NAMES, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"Unknown dataset {name!r}; choose one of {list(DATASET_NAMES)}.{hint}")
    return key


def _check_split(key: str, split: str) -> None:
    allowed = _SPLITS[key]
    if allowed is not None and split not in allowed:
        raise ValueError(f"Dataset {key!r} has splits {list(allowed)}, got split={split!r}")


def _require_root(key: str, root: str | None, layout: str) -> str:
    if root is None:
        raise ValueError(f"Dataset {key!r} needs a data root (--data-dir / root=...) laid out as {layout}")
    return os.path.expanduser(root)


def create_dataset(
    name: str,
    root: str | None = None,
    split: str = "train",
    transform: Callable[[Any], Any] | None = None,
    download: bool = False,
    **kwargs: Any,
) -> Dataset:
    """Creates a dataset by name.

    Datasets yield ``(transform(image), label)`` and expose ``targets`` and ``classes``. Images are uint8 tensors for
    the in-memory datasets (``fashion_mnist``, ``cifar10``, ``cifar100``, ``fake``) and RGB PIL images for the folder
    ones (``imagenet``, ``folder``); every :func:`~resattn.data.create_transform` preset accepts both.

    Args:
        name: One of :data:`DATASET_NAMES` (case-insensitive, ``-`` and ``_`` interchangeable):

            * ``fashion_mnist``: IDX files found in ``root``, ``$RESATTN_DATA``, or
              ``/usr/share/datasets/fashion-mnist``; splits ``train`` / ``test``.
            * ``cifar10`` / ``cifar100``: the official python pickle batches under ``root``; splits ``train`` /
              ``test``.
            * ``imagenet``: ``root/train`` and ``root/val`` ImageFolder trees (val must be sorted into class
              folders); splits ``train`` / ``val``.
            * ``folder``: ``root/<split>/<class>/<image>`` for any split name.
            * ``fake``: synthetic data; kwargs ``size`` (1000), ``image_size`` (32), ``num_classes`` (10),
              ``in_chans`` (3), ``seed`` (0). Splits ``train`` / ``val`` / ``test`` hold different images.
        root: Data directory (optional for ``fashion_mnist`` and ``fake``).
        split: Which split.
        transform: Callable applied to each image.
        download: Download ``fashion_mnist`` / ``cifar10`` / ``cifar100`` with torchvision if not found locally.
        **kwargs: Options of the ``fake`` dataset (rejected for the others).

    Returns:
        The dataset.

    Raises:
        ValueError: Unknown name or split, missing root, or options the dataset does not take.
        FileNotFoundError: Data not found; the message says where it looked and how to fix it.
    """
    key = _canonical_name(name)
    _check_split(key, split)
    if kwargs and key != "fake":
        raise ValueError(f"Dataset {key!r} takes no extra options, got {sorted(kwargs)}")
    if key == "fashion_mnist":
        return FashionMNIST(root, split, transform=transform, download=download)
    if key in ("cifar10", "cifar100"):
        num_classes = 10 if key == "cifar10" else 100
        folder = "cifar-10-batches-py" if num_classes == 10 else "cifar-100-python"
        root = _require_root(key, root, f"<root>/{folder}/ (or pass download=True)")
        return CIFAR(root, split, num_classes=num_classes, transform=transform, download=download)
    if key == "fake":
        options = {**_FAKE_DEFAULTS, "size": _FAKE_SIZES[split], **kwargs}
        # Different splits must not contain the same images, so offset the seed per split.
        options["seed"] = options.get("seed", 0) * len(_SPLITS["fake"]) + _SPLITS["fake"].index(split)
        return FakeDataset(transform=transform, **options)
    if download:
        raise ValueError(f"Dataset {key!r} cannot be downloaded automatically; put the images under root yourself")
    if key == "imagenet":
        layout = "<root>/train/<wnid>/*.JPEG and <root>/val/<wnid>/*.JPEG"
    else:
        layout = "<root>/<split>/<class>/*"
    root = _require_root(key, root, layout)
    return ImageFolderDataset(os.path.join(root, split), transform=transform)


def dataset_info(name: str, **kwargs: Any) -> dict[str, Any]:
    """Returns static metadata of a dataset.

    Args:
        name: A dataset name accepted by :func:`create_dataset`.
        **kwargs: For ``fake`` only: ``num_classes``, ``in_chans``, ``image_size`` overrides.

    Returns:
        Dict with ``num_classes`` (None for ``folder``: read ``len(dataset.classes)``), ``in_chans``, ``image_size``
        (native size, or the standard train crop for ImageNet-like data), ``mean`` and ``std`` (per channel, ``[0, 1]``
        units), ``class_names`` (None where they come from the data files: ``cifar100``, ``imagenet``, ``folder``),
        ``transform_preset`` (name for :func:`~resattn.data.create_transform`) and ``splits``.
    """
    key = _canonical_name(name)
    splits = _SPLITS[key]
    if key == "fashion_mnist":
        info = (10, 1, 28, FASHION_MNIST_MEAN, FASHION_MNIST_STD, list(FASHION_MNIST_CLASSES), "fashion_mnist")
    elif key == "cifar10":
        info = (10, 3, 32, CIFAR10_MEAN, CIFAR10_STD, list(CIFAR10_CLASSES), "cifar10")
    elif key == "cifar100":
        info = (100, 3, 32, CIFAR100_MEAN, CIFAR100_STD, None, "cifar100")
    elif key == "imagenet":
        info = (1000, 3, 224, IMAGENET_MEAN, IMAGENET_STD, None, "imagenet")
    elif key == "folder":
        info = (None, 3, 224, IMAGENET_MEAN, IMAGENET_STD, None, "imagenet")
    else:
        unknown = set(kwargs) - set(_FAKE_DEFAULTS)
        if unknown:
            raise ValueError(f"dataset_info('fake') accepts {sorted(_FAKE_DEFAULTS)}, got {sorted(unknown)}")
        opts = {**_FAKE_DEFAULTS, **kwargs}
        chans, size = opts["in_chans"], opts["image_size"]
        # Small fakes go through the fast uint8 tensor pipeline; large ones through the ImageNet-style one.
        preset = "cifar" if size <= 64 else "imagenet"
        names = [f"class_{i}" for i in range(opts["num_classes"])]
        info = (opts["num_classes"], chans, size, (0.5,) * chans, (0.25,) * chans, names, preset)
    if kwargs and key != "fake":
        raise ValueError(f"dataset_info({key!r}) takes no extra options, got {sorted(kwargs)}")
    num_classes, in_chans, image_size, mean, std, class_names, preset = info
    return {
        "num_classes": num_classes,
        "in_chans": in_chans,
        "image_size": image_size,
        "mean": tuple(mean),
        "std": tuple(std),
        "class_names": class_names,
        "transform_preset": preset,
        "splits": list(splits) if splits is not None else None,
    }
