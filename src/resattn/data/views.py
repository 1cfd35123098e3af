"""Cheap views of a dataset: the same storage with another transform, or a subset of its indices."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.utils.data import Dataset, Subset

__all__ = ["IndexedSubset", "dataset_targets", "with_transform"]


def with_transform(dataset: Dataset, transform: Callable[[Any], Any] | None) -> Dataset:
    """Returns a shallow copy of ``dataset`` that applies ``transform`` instead of its own.

    The copy shares the image storage (tensors, file lists) with the original, so this costs no memory.

    Args:
        dataset: A dataset with a ``transform`` attribute read in ``__getitem__`` (all resattn datasets and
            torchvision's ImageFolder/CIFAR classes qualify), or a ``Subset`` of one.
        transform: The transform for the copy.

    Returns:
        The copy.

    Raises:
        TypeError: If ``dataset`` has no ``transform`` attribute.
    """
    if isinstance(dataset, Subset):
        # A subset's items come from its parent, so swap the parent's transform and keep the indices.
        return IndexedSubset(with_transform(dataset.dataset, transform), dataset.indices)
    if not hasattr(dataset, "transform"):
        raise TypeError(f"{type(dataset).__name__} has no 'transform' attribute, so its transform cannot be swapped")
    view = copy.copy(dataset)
    view.transform = transform
    return view


def dataset_targets(dataset: Dataset) -> torch.Tensor:
    """Returns the labels of ``dataset`` as an int64 tensor.

    Args:
        dataset: A dataset exposing ``targets`` (list or tensor of ints).

    Raises:
        TypeError: If the dataset has no ``targets``.
    """
    targets = getattr(dataset, "targets", None)
    if targets is None:
        raise TypeError(f"{type(dataset).__name__} exposes no 'targets'; labels are needed for splits and label noise")
    return torch.as_tensor(targets, dtype=torch.long)


class ParentAttributes:
    """``classes`` and ``transform`` read through to ``self.dataset`` (for views over another dataset)."""

    dataset: Dataset

    @property
    def classes(self) -> list[str] | None:
        """Class names of the parent, if it has them."""
        return getattr(self.dataset, "classes", None)

    @property
    def transform(self) -> Callable[[Any], Any] | None:
        """The parent's transform (read-only here; use :func:`with_transform` on the parent to change it)."""
        return getattr(self.dataset, "transform", None)


class IndexedSubset(ParentAttributes, Subset):
    """``torch.utils.data.Subset`` that also exposes ``targets``, ``classes`` and ``transform`` of the parent.

    Args:
        dataset: The parent dataset.
        indices: Indices into the parent.
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        super().__init__(dataset, list(indices))

    @property
    def targets(self) -> torch.Tensor:
        """int64 labels of the subset's items, in subset order."""
        return dataset_targets(self.dataset)[torch.as_tensor(self.indices, dtype=torch.long)]
