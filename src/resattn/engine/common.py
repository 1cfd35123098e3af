"""What training and the commands that evaluate a model share: the device, the evaluation loader and the data splits.

A run's validation images are derived in one place, :func:`train_val_subsets` (``folder_data._train_val`` for image
folders), so that ``resattn validate --split val`` measures a checkpoint on exactly the images its run selected it
on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from ..data import create_dataset, create_transform, dataset_info, train_val_split
from .stop import ignore_stop_signals

__all__ = ["AMP_DTYPES", "eval_loader", "evaluation_data", "resolve_device", "test_split_name", "train_val_subsets"]

AMP_DTYPES = {"none": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(name: str) -> torch.device:
    """``--device``: ``auto`` is CUDA where there is one; an unavailable CUDA device is a one-line error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {name}: CUDA is not available on this machine; use --device cpu")
    return device


def eval_loader(dataset: Dataset, batch_size: int, workers: int) -> torch.utils.data.DataLoader:
    # A private generator: creating the iterator must not draw from the global RNG (exact resume).
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers,
                                       generator=torch.Generator(),
                                       worker_init_fn=ignore_stop_signals if workers else None)


def test_split_name(info: dict[str, Any], data_dir: str | None) -> str:
    """ "test" where the dataset has one; ImageNet's held-out set is "val" (the paper reports on it)."""
    splits = info["splits"]
    if splits is None:  # an image folder: whichever of test/ and val/ exists
        root = Path(data_dir or ".")
        return "test" if (root / "test").is_dir() or not (root / "val").is_dir() else "val"
    return "test" if "test" in splits else "val"


def train_val_subsets(dataset: str, data_dir: str | None, val_split: int | float, seed: int, train_transform,
                      val_transform, download: bool = False) -> tuple[Dataset, Dataset]:
    """A run's training and validation subsets of a built-in dataset: its train split, cut by ``val_split`` (a count
    of images or a fraction) in an order drawn from ``seed``. Training and ``validate --split val`` both take them
    from here."""
    full = create_dataset(dataset, data_dir, "train", download=download)
    return train_val_split(full, val_split, seed, train_transform=train_transform, val_transform=val_transform)


def evaluation_data(loaded, dataset: str | None, data_dir: str | None, split: str, img_size: int | None = None,
                    crop_pct: float | None = None) -> tuple[str, dict[str, Any], Dataset]:
    """The dataset name, its info and the eval-transformed ``split`` for a loaded model (``restore.LoadedModel``):
    "train", "val" (the validation images of the checkpoint's run) or "test" (the held-out set)."""
    dataset = dataset or loaded.dataset
    if dataset is None:
        raise ValueError("This model does not say which dataset it was trained on; pass --dataset")
    if dataset.strip().lower() == "folder":
        from .folder_data import folder_eval_data  # folder runs: the images prepared as their run recorded

        info, data = folder_eval_data(loaded.config, data_dir, split, loaded.class_names, img_size)
        return "folder", info, _not_empty(data, split)
    info = dataset_info(dataset)
    tf = create_transform(info["transform_preset"], train=False, img_size=img_size or info["image_size"],
                          crop_pct=crop_pct)
    if split == "val":
        cfg = loaded.config
        if not cfg:
            raise ValueError("--split val needs a training checkpoint (it holds the seed of the split)")
        _, data = train_val_subsets(dataset, data_dir or cfg.get("data_dir"), cfg["val_split"], cfg["seed"], tf, tf)
    else:  # "test" is ImageNet's val/ folder: the held-out set the paper reports on
        split = test_split_name(info, data_dir) if split == "test" else split
        data = create_dataset(dataset, data_dir, split, transform=tf)
    return dataset, info, _not_empty(data, split)


def _not_empty(data: Dataset, split: str) -> Dataset:
    if len(data) == 0:
        hint = (" (its run trained on every training image, --val-split 0); use --split test" if split == "val"
                else "")
        raise ValueError(f"The {split} split of this model's dataset holds no images{hint}")
    return data
