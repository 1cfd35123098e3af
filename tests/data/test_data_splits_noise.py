"""Train/val split and symmetric label noise."""

from __future__ import annotations

import pytest
import torch

from resattn.data import (
    FakeDataset,
    NoisyLabels,
    apply_label_noise,
    create_transform,
    train_val_split,
    with_transform,
)


class Tag:
    """Transform that marks which pipeline produced an item."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, image: torch.Tensor) -> tuple[str, torch.Tensor]:
        return self.name, image


def test_split_deterministic_disjoint_and_complete() -> None:
    ds = FakeDataset(size=100, image_size=4)
    train, val = train_val_split(ds, 0.2, seed=7)
    train2, val2 = train_val_split(ds, 0.2, seed=7)
    _, val3 = train_val_split(ds, 0.2, seed=8)
    assert len(train) == 80 and len(val) == 20
    assert train.indices == train2.indices and val.indices == val2.indices
    assert val.indices != val3.indices
    assert set(train.indices).isdisjoint(val.indices)
    assert sorted(train.indices + val.indices) == list(range(100))
    assert len(train_val_split(ds, 30, seed=0)[1]) == 30


def test_split_uses_eval_transform_for_val() -> None:
    ds = FakeDataset(size=10, image_size=4, transform=Tag("train"))
    train, val = train_val_split(ds, 3, seed=0, val_transform=Tag("eval"))
    assert train[0][0][0] == "train" and val[0][0][0] == "eval"
    assert ds.transform.name == "train", "the source dataset must not be modified"
    # Both views share the same label storage: no copy of the data.
    assert train.dataset is ds and val.dataset.targets is ds.targets
    assert torch.equal(val.targets, ds.targets[val.indices])
    assert train.classes == ds.classes


def test_split_shares_image_storage() -> None:
    ds = FakeDataset(size=10, image_size=4)
    view = with_transform(ds, create_transform("cifar", False, img_size=4))
    assert view._colours is ds._colours and view.transform is not ds.transform


def test_split_refuses_to_leak_train_augmentation() -> None:
    ds = FakeDataset(size=10, image_size=4, transform=Tag("train"))
    with pytest.raises(ValueError, match="val_transform"):
        train_val_split(ds, 0.1, seed=0)


def test_a_split_of_zero_keeps_every_item_for_training() -> None:
    train, val = train_val_split(FakeDataset(size=10, image_size=4), 0, seed=0)
    assert train.indices == list(range(10)) and len(val) == 0


@pytest.mark.parametrize("bad", [0.0, 1.0, 10, -3, True])
def test_split_bad_sizes(bad) -> None:
    with pytest.raises((ValueError, TypeError)):
        train_val_split(FakeDataset(size=10, image_size=4), bad, seed=0)


@pytest.mark.parametrize("rate", [0.1, 0.4, 0.7])
def test_label_noise_realised_rate(rate: float) -> None:
    clean = torch.arange(50_000) % 10
    noisy, realised = apply_label_noise(clean, rate, num_classes=10, seed=0)
    assert noisy.dtype == torch.int64 and noisy.shape == clean.shape
    assert abs(realised - rate) < 0.01
    assert realised == pytest.approx((noisy != clean).double().mean().item())
    # Wrong labels spread uniformly over the other classes: off-diagonal entries of the empirical Q are ~equal.
    counts = torch.zeros(10, 10)
    counts.index_put_((clean, noisy), torch.ones(len(clean)), accumulate=True)
    q = counts / counts.sum(1, keepdim=True)
    off = q[~torch.eye(10, dtype=torch.bool)]
    assert (off - rate / 9).abs().max() < 0.015
    torch.testing.assert_close(q.diagonal(), torch.full((10,), 1 - rate), atol=0.02, rtol=0)


def test_label_noise_seeded_and_leaves_global_rng() -> None:
    clean = torch.randint(0, 10, (1000,))
    state = torch.get_rng_state()
    a, _ = apply_label_noise(clean, 0.3, 10, seed=5)
    assert torch.equal(torch.get_rng_state(), state)
    b, _ = apply_label_noise(clean.tolist(), 0.3, 10, seed=5)
    c, _ = apply_label_noise(clean, 0.3, 10, seed=6)
    assert torch.equal(a, b) and not torch.equal(a, c)
    zero, realised = apply_label_noise(clean, 0.0, 10, seed=0)
    assert torch.equal(zero, clean) and realised == 0.0


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_label_noise_rate_range(rate: float) -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        apply_label_noise(torch.zeros(5, dtype=torch.long), rate, 10, seed=0)


def test_label_noise_bad_targets() -> None:
    with pytest.raises(ValueError, match="targets"):
        apply_label_noise(torch.tensor([0, 10]), 0.1, 10, seed=0)


def test_noise_only_touches_training_subset() -> None:
    ds = FakeDataset(size=2000, image_size=2, num_classes=10)
    clean = ds.targets.clone()
    train, val = train_val_split(ds, 0.25, seed=0)
    noisy_targets, realised = apply_label_noise(train.targets, 0.5, 10, seed=1)
    noisy_train = NoisyLabels(train, noisy_targets)
    assert 0.45 < realised < 0.55
    assert [noisy_train[i][1] for i in range(len(noisy_train))] == noisy_targets.tolist()
    assert torch.equal(noisy_train.targets, noisy_targets) and torch.equal(train.targets, clean[train.indices])
    # Nothing outside the wrapper changed: base dataset, validation subset and its items keep clean labels.
    assert torch.equal(ds.targets, clean)
    assert torch.equal(val.targets, clean[val.indices])
    assert [val[i][1] for i in range(len(val))] == clean[val.indices].tolist()
    with pytest.raises(ValueError, match="labels for a dataset"):
        NoisyLabels(train, noisy_targets[:-1])
