"""GlobalBatchSampler: the order is a pure function of (seed, epoch, step) and does not depend on the world size."""

from __future__ import annotations

import pytest

from resattn.data import GlobalBatchSampler


def _epoch(sampler: GlobalBatchSampler, epoch: int, start_step: int = 0) -> list[list[int]]:
    sampler.set_epoch(epoch, start_step)
    return list(sampler)


def test_order_depends_only_on_seed_and_epoch() -> None:
    long_run = GlobalBatchSampler(100, 10, seed=3)
    orders = [_epoch(long_run, epoch) for epoch in range(4)]
    resumed = GlobalBatchSampler(100, 10, seed=3)
    assert _epoch(resumed, 3) == orders[3]
    assert list(resumed) == orders[3], "iterating twice must not advance the order"
    assert orders[0] != orders[1] and sorted(i for batch in orders[2] for i in batch) == list(range(100))


def test_resume_mid_epoch_continues_the_same_batches() -> None:
    sampler = GlobalBatchSampler(100, 10, seed=1)
    full = _epoch(sampler, 2)
    assert _epoch(sampler, 2, start_step=4) == full[4:] and len(sampler) == 6


def test_ranks_split_each_global_batch() -> None:
    single = _epoch(GlobalBatchSampler(40, 8, seed=5), 1)
    ranks = [_epoch(GlobalBatchSampler(40, 8, rank=r, world_size=2, seed=5), 1) for r in range(2)]
    assert [a + b for a, b in zip(*ranks)] == single


def test_last_batch_and_natural_order() -> None:
    assert len(GlobalBatchSampler(25, 10)) == 2
    tail = list(GlobalBatchSampler(25, 10, shuffle=False, drop_last=False))
    assert tail == [list(range(10)), list(range(10, 20)), list(range(20, 25))]


def test_bad_sizes() -> None:
    with pytest.raises(ValueError, match="multiple of the world size"):
        GlobalBatchSampler(100, 9, world_size=2)
    with pytest.raises(ValueError, match="fewer than one batch"):
        GlobalBatchSampler(5, 10)
