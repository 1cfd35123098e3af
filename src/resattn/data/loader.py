"""DataLoader factory with reproducible, resumable shuffling."""

from __future__ import annotations

import random

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from .samplers import EpochSampler

__all__ = ["create_loader", "set_loader_epoch"]


def _seed_worker(worker_id: int) -> None:
    # torch seeds each worker from the base seed it draws from the main process's global RNG; derive the Python and
    # numpy seeds from it too, so transforms using those libraries are reproducible and differ across workers.
    worker_seed = torch.initial_seed() % 2**32
    random.seed(worker_seed)
    np.random.seed(worker_seed)


def create_loader(
    dataset: Dataset,
    batch_size: int,
    train: bool,
    num_workers: int = 0,
    distributed: bool = False,
    seed: int = 0,
    drop_last: bool | None = None,
    pin_memory: bool = False,
    *,
    num_replicas: int | None = None,
    rank: int | None = None,
) -> DataLoader:
    """Creates a DataLoader whose sampling order for epoch ``e`` depends only on ``(seed, e)``.

    Call :func:`set_loader_epoch` (equivalently ``loader.sampler.set_epoch(e)``) at the start of every epoch;
    otherwise every epoch repeats epoch 0's order.

    Shuffling uses :class:`EpochSampler`, or ``DistributedSampler(shuffle=train, seed=seed)`` when ``distributed``.
    Random augmentation draws from torch's global RNG: in the main process when ``num_workers == 0``, and otherwise
    in workers seeded from a base seed that the DataLoader draws from the main process's global RNG. Either way,
    restoring ``torch.get_rng_state()`` before an epoch reproduces its augmentation.

    Args:
        dataset: Map-style dataset.
        batch_size: Samples per batch (per process when distributed).
        train: Shuffle and, by default, drop the last incomplete batch.
        num_workers: Loader worker processes.
        distributed: Shard across processes with ``DistributedSampler``. In eval mode it pads the last shard with
            repeated samples so all ranks have equal length; metrics over all ranks then count a few items twice.
        seed: Base shuffling seed.
        drop_last: Drop the last incomplete batch; defaults to ``train``.
        pin_memory: Pin host memory for faster GPU transfer.
        num_replicas: World size for ``DistributedSampler``; taken from ``torch.distributed`` when None.
        rank: Rank for ``DistributedSampler``; taken from ``torch.distributed`` when None.

    Returns:
        The DataLoader; its ``sampler`` has ``set_epoch``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    drop_last = train if drop_last is None else drop_last
    if distributed:
        sampler = DistributedSampler(dataset, num_replicas=num_replicas, rank=rank, shuffle=train, seed=seed)
    else:
        sampler = EpochSampler(len(dataset), shuffle=train, seed=seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        drop_last=drop_last,
        pin_memory=pin_memory,
        worker_init_fn=_seed_worker if num_workers > 0 else None,
    )


def set_loader_epoch(loader: DataLoader, epoch: int) -> None:
    """Sets the epoch of the loader's sampler, if it has one that cares (EpochSampler, DistributedSampler).

    Args:
        loader: A loader from :func:`create_loader` (or any DataLoader).
        epoch: Epoch about to start.
    """
    set_epoch = getattr(loader.sampler, "set_epoch", None)
    if callable(set_epoch):
        set_epoch(epoch)
