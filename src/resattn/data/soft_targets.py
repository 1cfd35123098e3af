"""Training targets that mix each image's label with a teacher's predicted class probabilities (distillation)."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from .views import IndexedSubset, ParentAttributes

__all__ = ["SoftTargets"]


class SoftTargets(ParentAttributes, Dataset):
    """Wraps a training subset; item ``i`` is ``(image, (1 - weight) * onehot(label) + weight * teacher[j])``.

    ``j`` is the index of the item in the full split the subset was cut from, so one table of teacher probabilities
    serves every validation split of that dataset. The targets are float vectors that sum to 1, which
    ``torch.nn.functional.cross_entropy`` takes as class probabilities.

    Args:
        dataset: An :class:`IndexedSubset` of a dataset's training split.
        teacher: ``(len(parent split), num_classes)`` class probabilities, one row per image of the full split.
        weight: Share of the teacher in each target, in [0, 1].
    """

    def __init__(self, dataset: IndexedSubset, teacher: torch.Tensor, weight: float) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"the teacher's weight must be in [0, 1], got {weight}")
        rows = torch.as_tensor(dataset.indices, dtype=torch.long)
        if len(rows) and int(rows.max()) >= teacher.shape[0]:
            raise ValueError(f"the teacher's table has {teacher.shape[0]} rows, but the training images index up to "
                             f"{int(rows.max())}")
        self.dataset = dataset
        onehot = torch.nn.functional.one_hot(dataset.targets, teacher.shape[1]).float()
        self.targets_soft = (1.0 - weight) * onehot + weight * teacher[rows].float()

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[Any, torch.Tensor]:
        image, _ = self.dataset[index]
        return image, self.targets_soft[index]

    @property
    def targets(self) -> torch.Tensor:
        """The hard labels (int64), as the wrapped subset has them."""
        return self.dataset.targets
