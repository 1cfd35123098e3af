"""The README's "Your own images" commands at small scale, on real PNG folders that hold a corrupt file.

train on a folder (refused with a bad file, then with --skip-bad-images), fine-tune from the release and from a
run's best.safetensors, predict a folder into CSV and JSON; plus the flat layout, grayscale detection and the
size-based model choice.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image, ImageDraw
from safetensors import safe_open

from resattn.cli import main
from resattn.cli.train import resolve_train_config
from resattn.engine.checkpoint import load_checkpoint, save_checkpoint

FINETUNE = str(Path(__file__).resolve().parents[1] / "configs" / "finetune.yaml")
SMALL = ["--iters", "2", "-b", "4", "--progress", "none", "--amp", "none", "--no-channels-last"]


def _shape_png(path: Path, shape: str, size: int, seed: int, gray: bool = False) -> None:
    """A filled circle or square of a random colour on a random background: a real, decodable PNG."""
    rng = np.random.default_rng(seed)
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    image = Image.new("RGB", (size, size), tuple(int(c) for c in rng.integers(0, 256, 3)))
    box = (size // 5, size // 5, size - size // 5, size - size // 5)
    draw = ImageDraw.Draw(image)
    (draw.ellipse if shape == "circle" else draw.rectangle)(box, fill=colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    (image.convert("L") if gray else image).save(path)


def _tree(root: Path, counts: dict[str, int], size: int = 16, gray: bool = False, flat: bool = False) -> Path:
    seed = 0
    for split, n in counts.items():
        for shape in ("circle", "square"):
            for i in range(n):
                seed += 1
                folder = root / shape if flat else root / split / shape
                _shape_png(folder / f"{split}_{i}.png", shape, size, seed, gray)
    return root


@pytest.fixture(scope="module")
def my_images(tmp_path_factory) -> Path:
    root = _tree(tmp_path_factory.mktemp("own") / "my_images", dict(train=6, val=2, test=2))
    good = (root / "train" / "circle" / "train_0.png").read_bytes()
    (root / "train" / "circle" / "broken.png").write_bytes(good[: len(good) // 2])  # a truncated download
    return root


@pytest.fixture(scope="module")
def trained(my_images: Path, tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("runs") / "flowers"
    argv = ["train", "--dataset", "folder", "--data-dir", str(my_images), "--skip-bad-images", "--output", str(out)]
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(argv + SMALL) == 0
    return out, buffer.getvalue()


def test_bad_image_stops_the_run_before_training(my_images: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["train", "--dataset", "folder", "--data-dir", str(my_images), "--output", str(out)] + SMALL) == 2
    captured = capsys.readouterr()
    broken = str(my_images / "train" / "circle" / "broken.png")
    assert f"bad image: {broken}: OSError" in captured.out
    assert "1 of 21 files" in captured.err and "--skip-bad-images" in captured.err and "Traceback" not in captured.err
    assert not any(out.glob("*.pt"))


def test_train_on_a_folder_records_classes_and_input(trained: tuple[Path, str], my_images: Path) -> None:
    out, printed = trained
    assert "--skip-bad-images: left out 1 of 21 files" in printed
    assert "colour images: in_chans 3" in printed
    assert "preset small: median longer side 16 px" in printed and "model attention56_cifar" in printed
    counts = [line.split() for line in printed.splitlines() if line.strip().startswith(("circle", "square"))]
    assert counts == [["circle", "6", "2", "2"], ["square", "6", "2", "2"]]  # the broken file is not counted
    ckpt = load_checkpoint(out / "best.pt")
    assert ckpt["class_names"] == ["circle", "square"] and ckpt["model_args"]["num_classes"] == 2
    assert ckpt["model_args"]["in_chans"] == 3
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert (config["preset"], config["in_chans"], config["img_size"]) == ("small", 3, 16)
    assert config["mean"] == pytest.approx([0.485, 0.456, 0.406])  # ImageNet statistics without a source
    with safe_open(str(out / "best.safetensors"), framework="pt") as f:
        assert json.loads(f.metadata()["class_names"]) == ["circle", "square"]
    results = json.loads((out / "results.json").read_text())
    assert results["test_images"] == 4 and 0 <= results["test_top1"] <= 100


def test_finetune_from_the_release(my_images: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "flowers_ft"
    assert main(["train", "-c", FINETUNE, "--dataset", "folder", "--data-dir", str(my_images), "--skip-bad-images",
                 "--pretrained", "attention56_cifar.fmnist", "--output", str(out)] + SMALL) == 0
    printed = capsys.readouterr().out
    assert "initial weights from attention56_cifar.fmnist: loaded" in printed
    assert "re-initialised head.fc.weight, head.fc.bias (10 -> 2 classes)" in printed
    assert "adapted stem.conv.weight (1 -> 3 input channels)" in printed
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["model"] == "attention56_cifar" and config["lr"] == 0.01
    assert config["mean"] == pytest.approx([0.286] * 3)  # the release's grey normalisation, for three channels


def test_finetune_from_a_run(trained: tuple[Path, str], my_images: Path, tmp_path: Path, capsys) -> None:
    source = trained[0] / "best.safetensors"
    out = tmp_path / "again"
    assert main(["train", "-c", FINETUNE, "--dataset", "folder", "--data-dir", str(my_images), "--skip-bad-images",
                 "--initial-checkpoint", str(source), "--output", str(out)] + SMALL) == 0
    printed = capsys.readouterr().out
    assert f"initial weights from {source}: loaded" in printed
    assert "re-initialised" not in printed and "adapted" not in printed  # same classes, same channels


def test_predict_a_folder_to_csv(trained: tuple[Path, str], my_images: Path, tmp_path: Path, capsys) -> None:
    results = tmp_path / "results.csv"
    broken = my_images / "train" / "circle" / "broken.png"
    code = main(["predict", "--checkpoint", str(trained[0] / "best.pt"), str(my_images / "test"), str(broken),
                 "--output", str(results), "--topk", "2", "-b", "3"])
    assert code == 1  # one file failed; the others are still predicted
    err = capsys.readouterr().err
    assert f"resattn predict: Cannot load image '{broken}'" in err and "Traceback" not in err
    with results.open() as f:
        rows = list(csv.DictReader(f))
    assert [Path(r["path"]).name for r in rows][-1] == "broken.png" and len(rows) == 5
    for row in rows[:4]:
        assert row["error"] == "" and {row["class1"], row["class2"]} == {"circle", "square"}
        assert 1 >= float(row["prob1"]) >= float(row["prob2"]) >= 0
        assert float(row["prob1"]) + float(row["prob2"]) == pytest.approx(1, abs=1e-5)
    assert "broken.png" in rows[4]["error"] and rows[4]["class1"] == "" and "class3" not in rows[4]  # 2 classes


def test_predict_glob_to_json_from_safetensors(trained: tuple[Path, str], my_images: Path, tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    assert main(["predict", "--checkpoint", str(trained[0] / "best.safetensors"),
                 str(my_images / "test" / "*" / "*.png"), "--output", str(results)]) == 0
    data = json.loads(results.read_text())
    assert data["class_names"] == ["circle", "square"] and "RGB" in data["input"]
    assert len(data["predictions"]) == 4 and all(len(p["predictions"]) == 2 for p in data["predictions"])


def test_visualize_a_folder_run_writes_a_png_per_image(trained: tuple[Path, str], my_images: Path, tmp_path: Path,
                                                      capsys) -> None:
    out = tmp_path / "masks"
    code = main(["visualize", "--checkpoint", str(trained[0] / "best.pt"), "--images", str(my_images / "test"),
                 "--output", str(out)])
    assert code == 0, capsys.readouterr().err
    # both class folders hold test_0.png and test_1.png: each image still gets its own file
    assert sorted(p.name for p in out.iterdir()) == ["circle_test_0_masks.png", "circle_test_1_masks.png",
                                                     "contact_sheet.png", "square_test_0_masks.png",
                                                     "square_test_1_masks.png"]
    assert "Wrote 4 overlay PNGs and contact_sheet.png" in capsys.readouterr().out


def _run_val_row(out: Path) -> dict[str, str]:
    best_step = json.loads((out / "results.json").read_text())["best_step"]
    with (out / "summary.csv").open() as f:
        (row,) = [r for r in csv.DictReader(f) if int(r["step"]) == best_step]
    return row


def _validate(checkpoint: Path, split: str, results: Path, *extra: str) -> dict:
    assert main(["validate", "--checkpoint", str(checkpoint), "--split", split, "--amp", "none",
                 "--results-file", str(results), *extra]) == 0
    return json.loads(results.read_text())


def test_validate_a_folder_run_on_its_val_folder(trained: tuple[Path, str], tmp_path: Path) -> None:
    """With a val/ folder, the run's validation images are that folder, prepared as the run recorded."""
    out, _ = trained
    row = _run_val_row(out)
    for checkpoint in (out / "best.pt", out / "best.safetensors"):  # the latter reads config.yaml beside it
        got = _validate(checkpoint, "val", tmp_path / "val.json")
        assert got["images"] == 4 and got["dataset"] == "folder"
        assert (got["top1"], got["loss"]) == (float(row["val_top1"]), float(row["val_loss"]))
    assert _validate(out / "best.pt", "test", tmp_path / "test.json")["images"] == 4


def test_validate_split_val_sees_a_folder_runs_seeded_split(tmp_path: Path, capsys) -> None:
    """Without val/, the run holds out a seeded part of train/ after leaving out unreadable files; `validate
    --split val` finds exactly those images again (the trainer's numbers to the last digit), and another seed
    finds others."""
    root = _tree(tmp_path / "shapes", dict(train=8), size=16)
    good = (root / "train" / "square" / "train_0.png").read_bytes()
    (root / "train" / "square" / "aa_broken.png").write_bytes(good[:40])  # sorts first: shifts every index after it
    out = tmp_path / "run"
    assert main(["train", "--dataset", "folder", "--data-dir", str(root), "--skip-bad-images", "--val-split", "5",
                 "--output", str(out)] + SMALL) == 0
    row = _run_val_row(out)
    got = _validate(out / "best.pt", "val", tmp_path / "val.json")
    assert got["images"] == 5
    assert (got["top1"], got["top5"], got["loss"]) == (float(row["val_top1"]), float(row["val_top5"]),
                                                       float(row["val_loss"]))
    state = load_checkpoint(out / "best.pt")
    state["config"]["seed"] += 1
    save_checkpoint(state, tmp_path / "other_seed.pt")
    assert _validate(tmp_path / "other_seed.pt", "val", tmp_path / "other.json")["loss"] != got["loss"]
    capsys.readouterr()
    assert main(["validate", "--checkpoint", str(out / "best.pt"), "--split", "test"]) == 2
    err = capsys.readouterr().err
    assert "has no test/ folder" in err and "Traceback" not in err
    (root / "train" / "circle").rename(root / "train" / "disc")
    assert main(["validate", "--checkpoint", str(out / "best.pt"), "--split", "val"]) == 2
    assert "not the ones the model was trained on" in capsys.readouterr().err


def test_flat_grayscale_folder(tmp_path: Path, capsys) -> None:
    root = _tree(tmp_path / "flat", dict(a=5), size=20, gray=True, flat=True)
    out = tmp_path / "run"
    assert main(["train", "--dataset", "folder", "--data-dir", str(root), "--output", str(out)] + SMALL) == 0
    printed = capsys.readouterr().out
    assert "flat layout" in printed and "grayscale: in_chans 1" in printed and "no test/ folder" in printed
    ckpt = load_checkpoint(out / "best.pt")
    assert ckpt["model_args"]["in_chans"] == 1 and ckpt["config"]["val_split"] == 0.1
    assert "test_top1" not in json.loads((out / "results.json").read_text())
    colour = tmp_path / "colour.jpg"  # another size and colour: predict converts it as the run's input says
    _shape_png(colour, "circle", 40, seed=9)
    assert main(["predict", "--checkpoint", str(out / "best.pt"), str(colour), "--json"]) == 0
    line = json.loads(capsys.readouterr().out.strip())
    assert line["predictions"][0]["label"] in ("circle", "square")


def test_model_follows_image_size_and_source(tmp_path: Path) -> None:
    large = _tree(tmp_path / "photos", dict(train=2), size=100)
    cfg = resolve_train_config(["--dataset", "folder", "--data-dir", str(large)])
    assert cfg.model == "attention56" and cfg.val_split == 0.1
    cfg = resolve_train_config(["--dataset", "folder", "--data-dir", str(large), "--model", "attention92_cifar"])
    assert cfg.model == "attention92_cifar"
    cfg = resolve_train_config(["--dataset", "folder", "--data-dir", str(large), "--pretrained",
                                "attention56_cifar.fmnist"])
    assert cfg.model == "attention56_cifar"
    assert resolve_train_config(["--epochs", "1"]).val_split == 5000  # built-in datasets keep their default


def test_folder_errors_are_one_line(tmp_path: Path, capsys) -> None:
    assert main(["train", "--dataset", "folder", "--data-dir", str(tmp_path / "absent")]) == 2
    assert main(["train", "--dataset", "folder"]) == 2
    assert main(["train", "--pretrained", "attention56_cifar.nope"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "needs --data-dir" in err and "No released weights" in err
    assert "Traceback" not in err


def test_in_chans_and_preset_overrides(tmp_path: Path, capsys) -> None:
    from resattn.engine.folder_data import build_folder_data

    root = _tree(tmp_path / "gray", dict(train=3), size=20, gray=True)
    cfg = resolve_train_config(["--dataset", "folder", "--data-dir", str(root), "--in-chans", "3", "--preset",
                                "large", "--img-size", "32"])
    data = build_folder_data(cfg, None)
    assert data["info"]["in_chans"] == 3 and cfg.in_chans == 3 and cfg.preset == "large"
    image, _ = data["train"][0]
    assert image.shape == (3, 32, 32)
    printed = capsys.readouterr().out
    assert "in_chans 3 (given)" in printed and "given (--preset large)" in printed
