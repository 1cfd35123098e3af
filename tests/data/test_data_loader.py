"""Loader factory and the resumable epoch sampler."""

from __future__ import annotations

import pytest
import torch

from resattn.data import EpochSampler, FakeDataset, create_loader, create_transform, set_loader_epoch


def _dataset(size: int = 50) -> FakeDataset:
    return FakeDataset(size=size, image_size=8, transform=create_transform("cifar", True, img_size=8))


def test_epoch_sampler_is_pure_function_of_seed_and_epoch() -> None:
    long_run = EpochSampler(100, shuffle=True, seed=3)
    orders = []
    for epoch in range(4):
        long_run.set_epoch(epoch)
        orders.append(list(long_run))
    resumed = EpochSampler(100, shuffle=True, seed=3)
    resumed.set_epoch(3)
    assert list(resumed) == orders[3]
    assert list(resumed) == orders[3], "iterating twice must not advance the order"
    assert orders[0] != orders[1] and sorted(orders[2]) == list(range(100))
    assert list(EpochSampler(5, shuffle=False, seed=3)) == [0, 1, 2, 3, 4]
    assert len(resumed) == 100


def test_loader_batches_and_drop_last() -> None:
    train = create_loader(_dataset(50), batch_size=16, train=True)
    evaluation = create_loader(_dataset(50), batch_size=16, train=False)
    assert len(train) == 3 and len(evaluation) == 4
    images, labels = next(iter(train))
    assert images.shape == (16, 3, 8, 8) and labels.dtype == torch.int64
    assert isinstance(train.sampler, EpochSampler)


def _epoch(loader, epoch: int) -> list[torch.Tensor]:
    set_loader_epoch(loader, epoch)
    return [x for batch in loader for x in batch]


def test_loader_reproducible_from_seed_and_global_rng() -> None:
    ds = _dataset(40)
    loader_a = create_loader(ds, batch_size=8, train=True, seed=1)
    loader_b = create_loader(ds, batch_size=8, train=True, seed=1)
    torch.manual_seed(0)
    first = _epoch(loader_a, 2)
    torch.manual_seed(0)
    second = _epoch(loader_b, 2)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    torch.manual_seed(0)
    other_epoch = _epoch(loader_b, 3)
    assert not torch.equal(first[1], other_epoch[1])


def test_loader_with_workers_reproducible() -> None:
    ds = _dataset(24)
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        results.append(_epoch(create_loader(ds, batch_size=8, train=True, num_workers=2), 0))
    assert all(torch.equal(a, b) for a, b in zip(*results))


@pytest.mark.parametrize("train", [True, False])
def test_distributed_shards(train: bool) -> None:
    ds = _dataset(20)
    loaders = [
        create_loader(ds, 4, train=train, distributed=True, seed=2, num_replicas=2, rank=rank, drop_last=False)
        for rank in range(2)
    ]
    shards = []
    for loader in loaders:
        set_loader_epoch(loader, 1)
        shards.append(list(loader.sampler))
    assert set(shards[0]).isdisjoint(shards[1]) and sorted(shards[0] + shards[1]) == list(range(20))
    if not train:
        assert shards[0] == list(range(0, 20, 2))


def test_bad_batch_size() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        create_loader(_dataset(4), batch_size=0, train=True)
