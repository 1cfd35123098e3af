"""Sampler whose order for an epoch is a pure function of (seed, epoch), for exact resume."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler

__all__ = ["EpochSampler"]


class EpochSampler(Sampler[int]):
    """Yields ``range(n)``, shuffled by ``torch.randperm`` seeded with ``seed + epoch`` when ``shuffle``.

    Unlike ``RandomSampler``, the order does not depend on how many epochs this process has already run, so a run
    resumed at epoch ``e`` (after ``set_epoch(e)``) sees the same order as the uninterrupted run.

    Args:
        n: Dataset length.
        shuffle: Shuffle (training) or keep the natural order (evaluation).
        seed: Base seed.
    """

    def __init__(self, n: int, shuffle: bool = True, seed: int = 0) -> None:
        if n < 0:
            raise ValueError(f"EpochSampler needs n >= 0, got {n}")
        self.n, self.shuffle, self.seed = n, shuffle, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Selects the permutation used by the next iteration.

        Args:
            epoch: Epoch index (call this at the start of every epoch).
        """
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        if not self.shuffle:
            return iter(range(self.n))
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(torch.randperm(self.n, generator=generator).tolist())

    def __len__(self) -> int:
        return self.n
