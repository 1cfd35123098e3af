"""A table of teacher predictions over a dataset's training split, for distillation (``resattn train
--soft-targets``).

The teachers see each training image once, through the evaluation transform (no augmentation), and the table holds
the mean of their softmax outputs: one row per image of the full training split, so that it serves any validation
split cut from it. Training then mixes the table's row into each image's target (:class:`~resattn.data.SoftTargets`),
whatever augmentation the image gets.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from ..data import create_dataset, create_transform, dataset_info
from .checkpoint import CheckpointError, export_safetensors, load_safetensors
from .common import eval_loader
from .loop import autocast

__all__ = ["load_teacher_targets", "save_teacher_targets", "teacher_probabilities", "training_split"]


def training_split(dataset: str, data_dir: str | None = None):
    """The full training split of a built-in dataset, through its evaluation transform."""
    info = dataset_info(dataset)
    tf = create_transform(info["transform_preset"], train=False, img_size=info["image_size"])
    return create_dataset(dataset, data_dir, "train", transform=tf)


@torch.no_grad()
def teacher_probabilities(teachers: Sequence[nn.Module], data, batch_size: int = 500, workers: int = 0,
                          device: torch.device | str = "cpu", amp_dtype: torch.dtype | None = None,
                          progress: bool | None = None) -> torch.Tensor:
    """``(len(data), num_classes)``: the mean over ``teachers`` of their softmax on every item of ``data``, in order.
    ``progress``: a bar; None shows one on a terminal only."""
    from tqdm import tqdm

    if not teachers:
        raise ValueError("Give at least one teacher")
    device = torch.device(device)
    for teacher in teachers:
        teacher.eval().to(device)
    rows = []
    with tqdm(total=len(data), desc="teachers", unit="img", disable=None if progress is None else not progress) as bar:
        for x, _ in eval_loader(data, batch_size, workers):
            x = x.to(device)
            with autocast(device, amp_dtype):
                probs = sum(t(x).float().softmax(dim=1) for t in teachers) / len(teachers)
            rows.append(probs.cpu())
            bar.update(x.shape[0])
    return torch.cat(rows)


def save_teacher_targets(path: str | Path, probs: torch.Tensor, dataset: str, teachers: Sequence[str]) -> Path:
    meta = dict(dataset=dataset, split="train", teachers=json.dumps(list(teachers)))
    return export_safetensors({"probs": probs.float()}, path, meta)


def load_teacher_targets(path: str | Path, dataset: str, num_images: int, num_classes: int) -> torch.Tensor:
    """The table of ``path``, checked against the run's dataset: its name, image count and class count.

    Raises:
        CheckpointError: the file is missing or not a table of teacher targets.
        ValueError: the table was made for another dataset.
    """
    if not Path(path).is_file():
        raise CheckpointError(f"no table of teacher targets at {path} (scripts/teacher_targets.py writes one)")
    tensors, meta = load_safetensors(path)
    if "probs" not in tensors or meta.get("split") != "train":
        raise CheckpointError(f"{path} is not a table of teacher targets (made by scripts/teacher_targets.py)")
    probs = tensors["probs"]
    if meta.get("dataset") != dataset:
        raise ValueError(f"{path} holds teacher targets for {meta.get('dataset')!r}, not for {dataset!r}")
    if tuple(probs.shape) != (num_images, num_classes):
        raise ValueError(f"{path} holds {tuple(probs.shape)} teacher targets; {dataset}'s training split needs "
                         f"({num_images}, {num_classes})")
    return probs
