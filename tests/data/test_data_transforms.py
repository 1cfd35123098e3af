"""Transform presets: output shapes, normalisation, reproducibility and the fast tensor ops."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from resattn.data import (
    FASHION_MNIST_MEAN,
    FASHION_MNIST_STD,
    NormalizeUint8,
    PCALighting,
    RandomPadCrop,
    create_transform,
)


def _uint8(c: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, (c, h, w), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def _pil(w: int, h: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8))


@pytest.mark.parametrize("train", [True, False])
def test_cifar_shapes(train: bool) -> None:
    transform = create_transform("cifar", train)
    for image in (_uint8(3, 32, 32), _pil(32, 32)):
        out = transform(image)
        assert out.shape == (3, 32, 32) and out.dtype == torch.float32


@pytest.mark.parametrize("img_size", [224, 320])
@pytest.mark.parametrize("train", [True, False])
def test_imagenet_shapes(img_size: int, train: bool) -> None:
    transform = create_transform("imagenet", train, img_size=img_size)
    for image in (_pil(500, 375), _pil(200, 300), _uint8(3, 180, 260)):
        out = transform(image)
        assert out.shape == (3, img_size, img_size) and out.dtype == torch.float32


def test_imagenet_default_size_and_crop_pct() -> None:
    eval_repr = repr(create_transform("imagenet", False))
    assert "size=256" in eval_repr and "size=(224, 224)" in eval_repr
    assert "size=365" in repr(create_transform("imagenet", False, img_size=320))
    assert "size=320" in repr(create_transform("imagenet", False, img_size=320, crop_pct=1.0))
    assert "PCALighting" in repr(create_transform("imagenet", True))


@pytest.mark.parametrize("train", [True, False])
def test_fashion_mnist_shapes(train: bool) -> None:
    out = create_transform("fashion_mnist", train)(_uint8(1, 28, 28))
    assert out.shape == (1, 28, 28) and out.dtype == torch.float32
    gray = Image.fromarray(np.zeros((28, 28), dtype=np.uint8))
    assert create_transform("fashion_mnist", train)(gray).shape == (1, 28, 28)


def test_fashion_mnist_eval_normalisation() -> None:
    image = _uint8(1, 28, 28)
    expected = (image.float() / 255 - FASHION_MNIST_MEAN[0]) / FASHION_MNIST_STD[0]
    torch.testing.assert_close(create_transform("fashion_mnist", False)(image), expected)


def test_cifar_mean_std_override() -> None:
    image = _uint8(3, 32, 32)
    out = create_transform("cifar", False, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))(image)
    torch.testing.assert_close(out, image.float() / 127.5 - 1)


def test_train_augmentation_reproducible_from_global_seed() -> None:
    image = _uint8(3, 32, 32)
    for preset, img in (("cifar", image), ("fashion_mnist", image[:1, 2:30, 2:30]), ("imagenet", _pil(64, 48))):
        transform = create_transform(preset, True)
        torch.manual_seed(0)
        first = [transform(img) for _ in range(4)]
        torch.manual_seed(0)
        second = [transform(img) for _ in range(4)]
        assert all(torch.equal(a, b) for a, b in zip(first, second))
        assert not all(torch.equal(first[0], x) for x in first[1:]), f"{preset} augmentation looks constant"


def test_random_pad_crop_covers_all_offsets() -> None:
    image = torch.arange(16, dtype=torch.uint8).view(1, 4, 4) + 1
    padded = torch.nn.functional.pad(image, (1, 1, 1, 1))
    # Every legal output is a 4x4 window of the zero-padded image; there are 3 x 3 of them.
    windows = [padded[:, top : top + 4, left : left + 4] for top in range(3) for left in range(3)]
    crop = RandomPadCrop(4, padding=1)
    torch.manual_seed(0)
    seen = set()
    for _ in range(300):
        out = crop(image)
        matches = [i for i, w in enumerate(windows) if torch.equal(out, w)]
        assert len(matches) == 1
        seen.add(matches[0])
    assert seen == set(range(9))


def test_normalize_uint8_matches_reference() -> None:
    image = _uint8(3, 5, 5)
    mean, std = (0.1, 0.2, 0.3), (0.4, 0.5, 0.6)
    expected = (image.float() / 255 - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    torch.testing.assert_close(NormalizeUint8(mean, std)(image), expected)
    torch.testing.assert_close(NormalizeUint8(mean, std)(image.float() / 255), expected)


def test_pca_lighting_shifts_each_channel_uniformly() -> None:
    image = torch.rand(3, 6, 6)
    torch.manual_seed(1)
    out = PCALighting(alpha_std=0.1)(image)
    delta = out - image
    assert delta.abs().max() > 0
    torch.testing.assert_close(delta, delta[:, :1, :1].expand_as(delta))
    assert torch.equal(PCALighting(alpha_std=0.0)(image), image)


def test_bad_preset_and_arguments() -> None:
    with pytest.raises(ValueError, match="Did you mean 'imagenet'"):
        create_transform("imagnet", True)
    with pytest.raises(ValueError, match="crop_pct"):
        create_transform("imagenet", False, crop_pct=1.5)
    with pytest.raises(ValueError, match="img_size"):
        create_transform("cifar", True, img_size=0)


def test_random_erasing_blanks_a_rectangle_to_the_mean_and_is_seeded():
    image = torch.full((1, 28, 28), 200, dtype=torch.uint8)
    tf = create_transform("fashion_mnist", train=True, random_erasing=1.0)
    torch.manual_seed(3)
    a = tf(image)
    torch.manual_seed(3)
    assert torch.equal(a, tf(image))
    erased = a == 0  # 0 after normalisation is the dataset mean
    assert 0.02 * 28 * 28 * 0.5 <= erased.sum() <= 0.4 * 28 * 28
    rows, cols = erased[0].any(1).nonzero().flatten(), erased[0].any(0).nonzero().flatten()
    assert erased[0, rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].all()  # one solid rectangle
    plain = create_transform("fashion_mnist", train=True)
    torch.manual_seed(3)
    assert not (plain(image) == 0).any()


def test_random_erasing_rejects_bad_probability_and_imagenet():
    with pytest.raises(ValueError, match="probability"):
        create_transform("fashion_mnist", train=True, random_erasing=1.5)
    with pytest.raises(ValueError, match="small-image presets"):
        create_transform("imagenet", train=True, random_erasing=0.5)
