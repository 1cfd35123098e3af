"""Sampler whose order for an epoch is a pure function of (seed, epoch), for exact resume."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler

__all__ = ["GlobalBatchSampler"]


class GlobalBatchSampler(Sampler[list[int]]):
    """Batch sampler that shards each *global* batch across ranks: the sample order is independent of world size.

    Step ``s`` of epoch ``e`` takes the global batch ``perm[s*G:(s+1)*G]`` of the permutation seeded with
    ``seed + e``; rank ``r`` of ``W`` gets the contiguous slice ``[r*G/W, (r+1)*G/W)``. So a 2-process DDP run and a
    1-process run that splits the same global batch into 2 accumulation micro-batches see the same samples in the
    same groups, and a run resumed at step ``s`` (``set_epoch(e, start_step=s)``) continues exactly where the
    uninterrupted run would be, without touching the skipped samples (no augmentation RNG is consumed).
    This is the project's DistributedSampler: ``torch.utils.data.DistributedSampler`` interleaves ranks
    (``indices[rank::W]``), which ties the order to W.

    Args:
        n: dataset length.
        global_batch: samples per optimisation step over all ranks (must divide by ``world_size``).
        rank, world_size: this process's shard.
        shuffle: shuffle per epoch (training) or keep the natural order.
        seed: base seed.
        drop_last: drop the last incomplete global batch (training); else it is yielded, split as evenly as
            possible.
    """

    def __init__(
        self, n: int, global_batch: int, rank: int = 0, world_size: int = 1, shuffle: bool = True, seed: int = 0,
        drop_last: bool = True,
    ) -> None:
        if global_batch < 1 or global_batch % world_size:
            raise ValueError(f"global batch {global_batch} must be a positive multiple of the world size {world_size}")
        if drop_last and n < global_batch:
            raise ValueError(f"the dataset has {n} samples, fewer than one batch of {global_batch}")
        self.n, self.global_batch, self.rank, self.world_size = n, global_batch, rank, world_size
        self.shuffle, self.seed, self.drop_last = shuffle, seed, drop_last
        self.epoch, self.start_step = 0, 0

    def set_epoch(self, epoch: int, start_step: int = 0) -> None:
        self.epoch, self.start_step = epoch, start_step

    def steps_per_epoch(self) -> int:
        full, rest = divmod(self.n, self.global_batch)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self) -> Iterator[list[int]]:
        if self.shuffle:
            order = torch.randperm(self.n, generator=torch.Generator().manual_seed(self.seed + self.epoch)).tolist()
        else:
            order = list(range(self.n))
        for step in range(self.start_step, self.steps_per_epoch()):
            batch = order[step * self.global_batch:(step + 1) * self.global_batch]
            per_rank = -(-len(batch) // self.world_size)
            yield batch[self.rank * per_rank:(self.rank + 1) * per_rank]

    def __len__(self) -> int:
        return self.steps_per_epoch() - self.start_step
