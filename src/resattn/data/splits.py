"""Seeded train / validation split where each side gets its own transform."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.utils.data import Dataset

from .views import IndexedSubset, with_transform

__all__ = ["train_val_split"]


def _num_val(n: int, val_fraction: float | int) -> int:
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)):
        raise TypeError(f"val_fraction must be a float in (0, 1) or an int count, got {val_fraction!r}")
    if isinstance(val_fraction, float):
        if not 0.0 < val_fraction < 1.0:
            raise ValueError(f"val_fraction as a float must be in (0, 1), got {val_fraction}")
        num_val = max(1, round(n * val_fraction))
    else:
        num_val = val_fraction
    if not 0 <= num_val < n:
        raise ValueError(f"validation size must be between 0 (no validation) and {n - 1} for a dataset of {n} "
                         f"items, got {num_val}")
    return num_val


def train_val_split(
    dataset: Dataset,
    val_fraction: float | int,
    seed: int,
    *,
    train_transform: Callable[[Any], Any] | None = None,
    val_transform: Callable[[Any], Any] | None = None,
) -> tuple[IndexedSubset, IndexedSubset]:
    """Splits a dataset into disjoint train and validation subsets, reproducibly.

    Both subsets index shallow copies of ``dataset`` that share its storage but carry different transforms, so the
    validation side sees the deterministic eval transform while the training side is augmented.

    Args:
        dataset: Dataset with a ``transform`` attribute (any resattn dataset).
        val_fraction: Float in (0, 1): fraction of items for validation (rounded, at least 1); int: exact count,
            0 for none (every item trains; the validation subset is empty).
        seed: Seed of the permutation; the same (len(dataset), val_fraction, seed) always gives the same split.
        train_transform: Transform of the training subset; None keeps ``dataset.transform``.
        val_transform: Transform of the validation subset; None keeps ``dataset.transform``, which is only allowed
            when that is None (raw data) so that augmentation never leaks into validation by accident.

    Returns:
        ``(train_subset, val_subset)``; indices of each are sorted (the loader shuffles) and together cover the dataset.

    Raises:
        ValueError: If the sizes are invalid, or ``dataset`` has a transform and ``val_transform`` is not given.
    """
    if val_transform is None and getattr(dataset, "transform", None) is not None:
        raise ValueError(
            "train_val_split: the dataset has a transform but no val_transform was given, so validation would use the "
            "training augmentation. Pass val_transform=<eval transform> (or the same transform explicitly)."
        )
    n = len(dataset)
    num_val = _num_val(n, val_fraction)
    generator = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=generator)
    val_indices = perm[:num_val].sort().values.tolist()
    train_indices = perm[num_val:].sort().values.tolist()
    train_base = dataset if train_transform is None else with_transform(dataset, train_transform)
    val_base = dataset if val_transform is None else with_transform(dataset, val_transform)
    return IndexedSubset(train_base, train_indices), IndexedSubset(val_base, val_indices)
