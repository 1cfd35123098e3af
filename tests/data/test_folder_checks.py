"""The decode check (bad files, grayscale detection), the size-based preset rule and the input specs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from resattn.data.folder_preset import choose_preset, sample_sizes
from resattn.data.image_check import check_images
from resattn.data.image_files import find_images
from resattn.data.input_spec import adapt_stats, folder_spec, read_input, spec_for_dataset, spec_transform


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    paths = {name: tmp_path / f"{name}.png" for name in ("gray", "rgb_gray", "colour", "palette")}
    Image.fromarray(rng.integers(0, 256, (30, 40), dtype=np.uint8)).save(paths["gray"])
    Image.fromarray(np.repeat(rng.integers(0, 256, (30, 40, 1), dtype=np.uint8), 3, axis=2)).save(paths["rgb_gray"])
    Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(paths["colour"])
    Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).convert("P").save(paths["palette"])
    whole = paths["colour"].read_bytes()
    paths["truncated"] = tmp_path / "truncated.png"
    paths["truncated"].write_bytes(whole[: len(whole) // 2])
    paths["text"] = tmp_path / "notes.txt"
    paths["text"].write_text("not an image")
    paths["missing"] = tmp_path / "gone.png"
    return paths


def test_check_finds_bad_files_and_grayscale(files: dict[str, Path]) -> None:
    results = {Path(r.path).stem: r for r in check_images([str(p) for p in files.values()], workers=2)}
    assert [Path(r.path) for r in results.values()] == list(files.values())  # the order given
    for name in ("truncated", "notes", "gone"):
        assert results[name].error and results[name].size is None
    assert "truncated" in results["truncated"].error
    assert results["gray"].grayscale and results["rgb_gray"].grayscale and results["gray"].size == (40, 30)
    assert not results["colour"].grayscale and not results["palette"].grayscale


def test_preset_rule() -> None:
    small = choose_preset([(28, 28)] * 5 + [(500, 500)])
    assert (small.preset, small.img_size, small.model) == ("small", 28, "attention56_cifar")
    assert "median longer side 28 px" in small.reason
    large = choose_preset([(640, 480), (65, 20), (800, 600)])
    assert (large.preset, large.img_size, large.model) == ("large", 224, "attention56")
    assert choose_preset([(4, 4)]).img_size == 8  # the CIFAR layout's smallest input
    forced = choose_preset([(640, 480)], "small")
    assert forced.preset == "small" and forced.img_size == 64 and "given" in forced.reason
    with pytest.raises(ValueError, match="small.*large"):
        choose_preset([(28, 28)], "medium")
    with pytest.raises(ValueError, match="No readable image"):
        choose_preset([])


def test_sample_sizes_reads_headers_and_skips_bad(files: dict[str, Path]) -> None:
    assert sample_sizes([str(files["gray"]), str(files["text"]), str(files["colour"])]) == [(40, 30), (40, 30)]
    assert len(sample_sizes([str(files["gray"])] * 1000, limit=10)) == 10


def test_stats_follow_the_channels() -> None:
    assert adapt_stats([0.3], 3) == (0.3, 0.3, 0.3)
    assert adapt_stats([0.2, 0.4, 0.6], 1) == pytest.approx((0.4,))
    with pytest.raises(ValueError):
        adapt_stats([0.1, 0.2], 3)
    fmnist = spec_for_dataset("fashion_mnist")
    assert (fmnist.in_chans, fmnist.img_size, fmnist.mean) == (1, 28, (0.286,))


@pytest.mark.parametrize("preset", ["small", "large"])
@pytest.mark.parametrize("in_chans", [1, 3])
def test_spec_transforms_give_the_input_shape(files: dict[str, Path], preset: str, in_chans: int) -> None:
    spec = folder_spec(preset, in_chans, 24)
    for train in (True, False):
        x = read_input(str(files["colour"]), spec, spec_transform(spec, train))
        assert x.shape == (in_chans, 24, 24) and x.dtype == torch.float32
    with pytest.raises(ValueError, match="truncated"):
        read_input(str(files["truncated"]), spec)


def test_spec_errors() -> None:
    with pytest.raises(ValueError, match="preset"):
        folder_spec("huge", 3, 32)
    with pytest.raises(ValueError, match="in_chans"):
        folder_spec("small", 2, 32)


def test_find_images_files_folders_globs(tmp_path: Path, files: dict[str, Path]) -> None:
    sub = tmp_path / "sub" / "deeper"
    sub.mkdir(parents=True)
    Image.new("L", (4, 4)).save(sub / "x.jpg")
    (sub / "list.csv").write_text("a,b")
    found, problems = find_images([str(tmp_path / "sub"), str(tmp_path / "*.png"), str(files["text"]),
                                   str(tmp_path / "nothing*.png"), str(tmp_path / "absent.png")])
    names = [p.name for p in found]
    assert names[0] == "x.jpg" and "list.csv" not in names and names[-1] == "notes.txt"
    assert {"gray.png", "colour.png", "truncated.png"} <= set(names) and len(names) == len(set(names))
    assert [reason for _, reason in problems] == ["the pattern matches no file", "no such file or folder"]
