"""Shared base for in-memory datasets whose labels live in a ``targets`` tensor."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import Dataset

__all__ = ["TargetsDataset"]


class TargetsDataset(Dataset):
    """Dataset base with an int64 ``targets`` tensor mirrored into a Python list for fast per-item lookup.

    Subclasses read labels from ``self._labels`` in ``__getitem__``; assigning ``targets`` keeps both in sync.
    """

    _targets: torch.Tensor
    _labels: list[int]

    @property
    def targets(self) -> torch.Tensor:
        """int64 tensor ``(N,)`` of class indices."""
        return self._targets

    @targets.setter
    def targets(self, value: torch.Tensor | Sequence[int]) -> None:
        self._targets = torch.as_tensor(value, dtype=torch.long)
        # Indexing a list is several times cheaper than indexing a tensor and calling int() on the result.
        self._labels = self._targets.tolist()
