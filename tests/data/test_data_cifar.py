"""CIFAR-10/100 readers, on tiny batches written in the official python pickle layout."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from resattn.data import CIFAR, create_dataset, create_transform


def _batch(images_hwc: np.ndarray, labels: list[int], label_key: bytes, extra: dict | None = None) -> dict:
    # Official rows: 1024 red, 1024 green, 1024 blue values of a row-major 32x32 image.
    rows = images_hwc.transpose(0, 3, 1, 2).reshape(len(images_hwc), 3072)
    batch = {b"batch_label": b"test batch", label_key: labels, b"data": rows, b"filenames": [b"x.png"] * len(labels)}
    return {**batch, **(extra or {})}


def _dump(path: Path, obj: dict) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def write_cifar10(root: Path, per_batch: int = 4, n_test: int = 3) -> tuple[np.ndarray, list[int]]:
    directory = root / "cifar-10-batches-py"
    directory.mkdir(parents=True)
    rng = np.random.default_rng(0)
    all_images, all_labels = [], []
    for i in range(1, 6):
        images = rng.integers(0, 256, (per_batch, 32, 32, 3), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, per_batch)]
        _dump(directory / f"data_batch_{i}", _batch(images, labels, b"labels"))
        all_images.append(images)
        all_labels += labels
    test_images = rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8)
    _dump(directory / "test_batch", _batch(test_images, [9, 0, 5][:n_test], b"labels"))
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    _dump(directory / "batches.meta", {b"num_cases_per_batch": per_batch, b"label_names": names, b"num_vis": 3072})
    return np.concatenate(all_images), all_labels


def write_cifar100(root: Path, n_train: int = 6, n_test: int = 2) -> tuple[np.ndarray, list[int]]:
    directory = root / "cifar-100-python"
    directory.mkdir(parents=True)
    rng = np.random.default_rng(1)
    train_images = rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8)
    fine = [int(v) for v in rng.integers(0, 100, n_train)]
    _dump(directory / "train", _batch(train_images, fine, b"fine_labels", {b"coarse_labels": [f // 5 for f in fine]}))
    test_images = rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8)
    _dump(directory / "test", _batch(test_images, [99, 1], b"fine_labels", {b"coarse_labels": [19, 0]}))
    meta = {
        b"fine_label_names": [f"fine_{i}".encode() for i in range(100)],
        b"coarse_label_names": [f"coarse_{i}".encode() for i in range(20)],
    }
    _dump(directory / "meta", meta)
    return train_images, fine


def test_cifar10_train_and_test(tmp_path: Path) -> None:
    images, labels = write_cifar10(tmp_path)
    train = create_dataset("cifar10", root=str(tmp_path), split="train")
    test = create_dataset("cifar10", root=str(tmp_path), split="test")
    assert len(train) == 20 and len(test) == 3
    assert train.data.shape == (20, 3, 32, 32) and train.data.dtype == torch.uint8
    assert train.targets.tolist() == labels and test.targets.tolist() == [9, 0, 5]
    assert train.classes[0] == "airplane" and len(train.classes) == 10
    image, label = train[7]
    assert torch.equal(image, torch.from_numpy(images[7].transpose(2, 0, 1)))
    assert label == labels[7]


def test_cifar10_root_may_be_the_extracted_folder(tmp_path: Path) -> None:
    write_cifar10(tmp_path)
    assert len(CIFAR(str(tmp_path / "cifar-10-batches-py"), "test")) == 3


def test_cifar100_fine_labels(tmp_path: Path) -> None:
    images, fine = write_cifar100(tmp_path)
    train = create_dataset("cifar100", root=str(tmp_path), split="train")
    test = create_dataset("cifar100", root=str(tmp_path), split="test")
    assert len(train) == 6 and train.targets.tolist() == fine
    assert test.targets.tolist() == [99, 1]
    assert len(train.classes) == 100 and train.classes[99] == "fine_99"
    assert torch.equal(train[2][0], torch.from_numpy(images[2].transpose(2, 0, 1)))


def test_cifar_with_preset(tmp_path: Path) -> None:
    write_cifar10(tmp_path)
    ds = create_dataset("cifar10", str(tmp_path), "train", transform=create_transform("cifar10", train=True))
    image, label = ds[0]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32 and isinstance(label, int)


def test_cifar_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py"):
        create_dataset("cifar10", root=str(tmp_path))
    with pytest.raises(ValueError, match="data root"):
        create_dataset("cifar100")


def test_cifar_corrupt_batch_names_file(tmp_path: Path) -> None:
    write_cifar10(tmp_path)
    bad = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    bad.write_bytes(bad.read_bytes()[:100])
    with pytest.raises(ValueError) as info:
        create_dataset("cifar10", root=str(tmp_path))
    assert str(bad) in str(info.value)


def test_cifar_bad_data_shape(tmp_path: Path) -> None:
    write_cifar10(tmp_path)
    _dump(tmp_path / "cifar-10-batches-py" / "test_batch", {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]})
    with pytest.raises(ValueError, match="3072"):
        create_dataset("cifar10", root=str(tmp_path), split="test")
