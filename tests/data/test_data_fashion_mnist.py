"""IDX parsing and Fashion-MNIST discovery, on tiny files written in the real IDX format."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from resattn.data import FASHION_MNIST_CLASSES, FashionMNIST, create_dataset, create_transform, read_idx
from resattn.data import fashion_mnist as fm_module

SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    """Writes ``array`` as an IDX file (big-endian), optionally gzipped."""
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        payload = gzip.compress(payload)
    path.write_bytes(payload)
    return path


def write_split(directory: Path, split: str, n: int, gz: bool, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    prefix = "train" if split == "train" else "t10k"
    directory.mkdir(parents=True, exist_ok=True)
    write_idx(directory / f"{prefix}-images-idx3-ubyte", images, gz)
    write_idx(directory / f"{prefix}-labels-idx1-ubyte", labels, gz)
    return images, labels


@pytest.fixture
def no_system_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Hides the environment variable and system directory so only the test's files can be found."""
    empty = tmp_path / "no-system-data"
    empty.mkdir()
    monkeypatch.delenv(fm_module.DATA_ENV_VAR, raising=False)
    monkeypatch.setattr(fm_module, "SYSTEM_FASHION_MNIST_DIRS", (str(empty),))
    return empty


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trip(tmp_path: Path, gz: bool) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    ints = np.array([1, -2, 70000], dtype=np.int32)
    assert torch.equal(read_idx(write_idx(tmp_path / "a", images, gz)), torch.from_numpy(images))
    out = read_idx(write_idx(tmp_path / "b", ints, gz), expected_ndim=1)
    assert out.dtype == torch.int32 and out.tolist() == [1, -2, 70000]


def test_read_idx_bad_magic_names_file(tmp_path: Path) -> None:
    path = tmp_path / "bad-idx"
    path.write_bytes(b"\x12\x34\x08\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="bad magic") as info:
        read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_truncated_names_file(tmp_path: Path, gz: bool) -> None:
    path = write_idx(tmp_path / "imgs", np.zeros((5, 28, 28), dtype=np.uint8), gz=False)
    data = path.read_bytes()[:-10]
    if gz:
        # A gzip stream cut short: the classic interrupted download.
        path.write_bytes(gzip.compress(data + b"\x00" * 10)[:-20])
    else:
        path.write_bytes(data)
    with pytest.raises(ValueError, match="truncated") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_wrong_ndim(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "labels", np.zeros(4, dtype=np.uint8))
    with pytest.raises(ValueError, match="expected 3"):
        read_idx(path, expected_ndim=3)


def test_fashion_mnist_from_root_gz_and_raw(tmp_path: Path, no_system_data: Path) -> None:
    train_images, train_labels = write_split(tmp_path, "train", 12, gz=True)
    test_images, test_labels = write_split(tmp_path, "test", 5, gz=False, seed=1)
    train = create_dataset("fashion_mnist", root=str(tmp_path), split="train")
    test = create_dataset("fashion-mnist", root=str(tmp_path), split="test")
    assert len(train) == 12 and len(test) == 5
    assert train.data.dtype == torch.uint8 and train.data.shape == (12, 28, 28)
    assert train.targets.dtype == torch.int64
    assert train.targets.tolist() == train_labels.tolist()
    assert test.targets.tolist() == test_labels.tolist()
    assert train.classes == list(FASHION_MNIST_CLASSES) and train.classes[0] == "T-shirt/top"
    image, label = test[3]
    assert image.shape == (1, 28, 28) and image.dtype == torch.uint8
    assert torch.equal(image[0], torch.from_numpy(test_images[3])) and label == int(test_labels[3])


def test_fashion_mnist_item_with_preset(tmp_path: Path, no_system_data: Path) -> None:
    write_split(tmp_path, "test", 4, gz=False)
    ds = FashionMNIST(str(tmp_path), "test", transform=create_transform("fashion_mnist", train=True))
    image, label = ds[0]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32 and isinstance(label, int)


def test_fashion_mnist_search_order(tmp_path: Path, no_system_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_dir = tmp_path / "env"
    write_split(env_dir / "fashion-mnist", "test", 3, gz=True)
    monkeypatch.setenv(fm_module.DATA_ENV_VAR, str(env_dir))
    ds = FashionMNIST(split="test")
    assert len(ds) == 3 and ds.source_dir == str(env_dir / "fashion-mnist")
    # An explicit root wins over the environment variable.
    root = tmp_path / "root"
    write_split(root, "test", 6, gz=False)
    assert len(FashionMNIST(str(root), split="test")) == 6
    # torchvision's download layout under root is found too.
    tv_root = tmp_path / "tv"
    write_split(tv_root / "FashionMNIST" / "raw", "test", 2, gz=False)
    assert len(FashionMNIST(str(tv_root), split="test")) == 2


def test_fashion_mnist_not_found_lists_places(tmp_path: Path, no_system_data: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        create_dataset("fashion_mnist", root=str(tmp_path / "nowhere"), split="train")
    message = str(info.value)
    assert str(tmp_path / "nowhere") in message and str(no_system_data) in message
    assert "apt-get install dataset-fashion-mnist" in message and "RESATTN_DATA" in message
    assert "--download" in message


def test_fashion_mnist_count_mismatch(tmp_path: Path, no_system_data: Path) -> None:
    write_split(tmp_path, "test", 4, gz=False)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(3, dtype=np.uint8))
    with pytest.raises(ValueError, match="3 labels"):
        FashionMNIST(str(tmp_path), "test")


def test_fashion_mnist_bad_split(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="splits"):
        create_dataset("fashion_mnist", split="val")


@pytest.mark.skipif(not os.path.isdir(SYSTEM_DIR), reason="dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_test_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(fm_module.DATA_ENV_VAR, raising=False)
    ds = create_dataset("fashion_mnist", split="test")
    assert len(ds) == 10000 and ds.data.shape == (10000, 28, 28)
    assert sorted(ds.targets.unique().tolist()) == list(range(10))
    # The official test split is balanced: 1000 images per class.
    assert torch.bincount(ds.targets).tolist() == [1000] * 10
