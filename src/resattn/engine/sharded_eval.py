"""``evaluate_sharded``: every rank evaluates its share of a dataset; the metrics equal a one-process evaluation.

The dataset is cut into the batches a one-process evaluation would see (``batch_size`` consecutive items, in order),
and rank ``r`` of ``W`` evaluates batches ``r, r + W, r + 2W, ...``. Each rank writes the sums of its batches
(loss, top-1 and top-5 hits, images) into its row of a table with one row per batch and zeros elsewhere; one
all-reduce adds the tables (x + 0 is exact) and every rank adds the rows up in batch order, as ``evaluate`` does.
So the result is the one-process result bit for bit, whatever the number of ranks, and every rank holds it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler

from .collectives import all_reduce_sum
from .distributed import get_rank, get_world_size
from .loop import batch_sums, metrics_from_sums
from .stop import ignore_stop_signals

__all__ = ["ShardBatches", "evaluate_sharded"]


class ShardBatches(Sampler[list[int]]):
    """Batch sampler of one rank's share: batches ``rank, rank + world_size, ...`` of ``range(n)`` cut into
    ``batch_size`` consecutive indices (the last batch may be short; a rank may get none)."""

    def __init__(self, n: int, batch_size: int, rank: int = 0, world_size: int = 1) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.n, self.batch_size, self.rank, self.world_size = n, batch_size, rank, world_size

    def num_batches(self) -> int:
        return -(-self.n // self.batch_size)

    def batch_ids(self) -> range:
        return range(self.rank, self.num_batches(), self.world_size)

    def __iter__(self) -> Iterator[list[int]]:
        for b in self.batch_ids():
            yield list(range(b * self.batch_size, min(self.n, (b + 1) * self.batch_size)))

    def __len__(self) -> int:
        return len(self.batch_ids())


@torch.no_grad()
def evaluate_sharded(
    model: nn.Module,
    dataset: Dataset,
    batch_size: int,
    device: torch.device,
    amp_dtype: torch.dtype | None = None,
    channels_last: bool = False,
    workers: int = 0,
) -> dict[str, float]:
    """Loss, top-1 and top-5 (percent) of ``model`` on ``dataset``, evaluated by all ranks together (a collective:
    every rank calls it with the same dataset); one process alone evaluates everything.

    Returns:
        The dict of :func:`~resattn.engine.loop.evaluate`, identical on every rank.
    """
    sampler = ShardBatches(len(dataset), batch_size, get_rank(), get_world_size())
    if sampler.num_batches() == 0:
        raise ValueError("evaluate_sharded() got an empty dataset")
    # A private generator: creating the iterator must not draw from the global RNG (exact resume).
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=workers, generator=torch.Generator(),
                        worker_init_fn=ignore_stop_signals if workers else None)
    model.eval()
    start = time.perf_counter()
    table = torch.zeros(sampler.num_batches(), 4, dtype=torch.float64)  # float64 holds the counts exactly
    for b, (x, y) in zip(sampler.batch_ids(), loader, strict=True):
        table[b] = torch.tensor(batch_sums(model, x, y, device, amp_dtype, channels_last), dtype=torch.float64)
    table = all_reduce_sum(table)
    return metrics_from_sums(table.tolist(), time.perf_counter() - start)
