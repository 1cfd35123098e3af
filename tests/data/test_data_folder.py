"""ImageFolder-based datasets (generic folder and ImageNet layout), including corrupt images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from resattn.data import ImageLoadError, create_dataset, create_transform


def _save(path: Path, size: tuple[int, int], mode: str = "RGB", seed: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "images"
    for split in ("train", "val"):
        _save(root / split / "cat" / "a.png", (40, 30))
        _save(root / split / "cat" / "b.jpg", (50, 60), seed=1)
        _save(root / split / "dog" / "c.JPEG", (33, 33), seed=2)
        _save(root / split / "dog" / "d.png", (20, 25), mode="L", seed=3)
    return root


def test_folder_dataset(tree: Path) -> None:
    ds = create_dataset("folder", root=str(tree), split="train")
    assert len(ds) == 4 and ds.classes == ["cat", "dog"] and list(ds.targets) == [0, 0, 1, 1]
    image, label = ds[3]
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (20, 25) and label == 1


@pytest.mark.parametrize("img_size", [224, 320])
def test_imagenet_layout_with_transforms(tree: Path, img_size: int) -> None:
    train = create_dataset("imagenet", str(tree), "train", create_transform("imagenet", True, img_size=img_size))
    val = create_dataset("imagenet", str(tree), "val", create_transform("imagenet", False, img_size=img_size))
    for ds in (train, val):
        image, _ = ds[1]
        assert image.shape == (3, img_size, img_size) and image.dtype == torch.float32


def test_imagenet_split_and_download_errors(tree: Path) -> None:
    with pytest.raises(ValueError, match="splits"):
        create_dataset("imagenet", str(tree), "test")
    with pytest.raises(ValueError, match="cannot be downloaded"):
        create_dataset("imagenet", str(tree), "train", download=True)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        create_dataset("folder", str(tree), "holdout")


def test_corrupt_jpeg_names_file(tree: Path) -> None:
    good = tree / "train" / "cat" / "b.jpg"
    truncated = tree / "train" / "cat" / "b2.jpg"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    garbage = tree / "train" / "dog" / "e.jpg"
    garbage.write_bytes(b"definitely not a jpeg")
    ds = create_dataset("folder", str(tree), "train")
    for path in (truncated, garbage):
        index = [p for p, _ in ds.samples].index(str(path))
        with pytest.raises(ImageLoadError) as info:
            ds[index]
        assert str(path) in str(info.value) and info.value.path == str(path)
        assert isinstance(info.value, ValueError)


def test_corrupt_image_error_survives_worker(tree: Path) -> None:
    (tree / "train" / "cat" / "a.png").write_bytes(b"\x89PNG broken")
    ds = create_dataset("folder", str(tree), "train", transform=create_transform("imagenet", False, img_size=32))
    loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=1)
    with pytest.raises(ImageLoadError, match="a.png"):
        next(iter(loader))
