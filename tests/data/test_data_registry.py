"""Dataset factory: names, errors, metadata and the synthetic dataset."""

from __future__ import annotations

import pytest
import torch

from resattn.data import DATASET_NAMES, create_dataset, create_transform, dataset_info


def test_unknown_name_lists_choices_and_suggests() -> None:
    with pytest.raises(ValueError) as info:
        create_dataset("fashionmnist")
    message = str(info.value)
    assert "'fashionmnist'" in message and "Did you mean 'fashion_mnist'" in message
    assert all(name in message for name in DATASET_NAMES)
    with pytest.raises(ValueError, match="cifar10"):
        dataset_info("cifar-1O")


def test_the_no_argument_run_trains_on_fashion_mnist() -> None:
    from resattn.cli.train import resolve_train_config

    cfg = resolve_train_config([])
    assert (cfg.dataset, cfg.model) == ("fashion_mnist", "attention56_cifar")
    info = dataset_info(cfg.dataset)
    # Fashion-MNIST as its authors publish it: 10 classes of 28x28 grayscale images, labels 0..9 in this order
    assert (info["num_classes"], info["in_chans"], info["image_size"]) == (10, 1, 28)
    assert info["class_names"] == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                                   "Sneaker", "Bag", "Ankle boot"]
    # the training images' pixel mean and std in [0, 1]: 0.2860 and 0.3530
    assert info["mean"] == pytest.approx((0.286,), abs=1e-3) and info["std"] == pytest.approx((0.353,), abs=1e-3)


def test_extra_options_rejected_for_real_datasets(tmp_path) -> None:
    with pytest.raises(ValueError, match="no extra options"):
        create_dataset("cifar10", root=str(tmp_path), size=3)


def test_fake_dataset_deterministic() -> None:
    a = create_dataset("fake", size=16, image_size=20, num_classes=5, in_chans=3, seed=3)
    b = create_dataset("fake", size=16, image_size=20, num_classes=5, in_chans=3, seed=3)
    val = create_dataset("fake", split="val", size=16, image_size=20, num_classes=5, in_chans=3, seed=3)
    assert len(a) == 16 and a.targets.shape == (16,) and int(a.targets.max()) < 5
    image, label = a[5]
    assert image.shape == (3, 20, 20) and image.dtype == torch.uint8
    assert torch.equal(image, b[5][0]) and label == b[5][1]
    assert not torch.equal(image, a[6][0]) and not torch.equal(image, val[5][0])
    assert torch.equal(a[-1][0], a[15][0])
    with pytest.raises(IndexError):
        a[16]


def test_fake_dataset_is_learnable() -> None:
    # Per-class channel means must separate the classes, otherwise training smoke tests cannot learn anything.
    ds = create_dataset("fake", size=200, image_size=8, num_classes=4, seed=0)
    means = torch.stack([ds[i][0].float().mean(dim=(1, 2)) for i in range(len(ds))])
    centroids = torch.stack([means[ds.targets == c].mean(0) for c in range(4)])
    predicted = torch.cdist(means, centroids).argmin(1)
    assert (predicted == ds.targets).float().mean() > 0.95


def test_fake_with_its_preset() -> None:
    info = dataset_info("fake", image_size=32, in_chans=3)
    transform = create_transform(info["transform_preset"], True, mean=info["mean"], std=info["std"])
    image, _ = create_dataset("fake", size=4, transform=transform)[0]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_dataset_info_fields(name: str) -> None:
    info = dataset_info(name)
    assert set(info) >= {"num_classes", "in_chans", "image_size", "mean", "std", "class_names"}
    assert len(info["mean"]) == len(info["std"]) == info["in_chans"]
    if info["class_names"] is not None:
        assert len(info["class_names"]) == info["num_classes"]


def test_dataset_info_values() -> None:
    fm = dataset_info("fashion_mnist")
    assert (fm["num_classes"], fm["in_chans"], fm["image_size"]) == (10, 1, 28)
    assert fm["mean"] == (0.2860,) and fm["std"] == (0.3530,)
    assert fm["class_names"][-1] == "Ankle boot"
    assert dataset_info("cifar100")["num_classes"] == 100
    assert dataset_info("imagenet")["num_classes"] == 1000
    assert dataset_info("fake", num_classes=7)["num_classes"] == 7
    # Callers may mutate the returned dict without affecting later calls.
    fm["class_names"].append("x")
    assert len(dataset_info("fashion_mnist")["class_names"]) == 10
