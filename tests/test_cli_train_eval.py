"""`resattn train`, `validate` and `predict` end to end on fake data; errors are one clear line."""

import json

import numpy as np
import pytest
from PIL import Image

from resattn.cli import main
from resattn.cli.train import resolve_train_config

# One worker for the whole module: its module-scoped training then runs once, not once per worker.
pytestmark = pytest.mark.xdist_group("cli_train_eval")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    args = ["train", "--model", "attention56_cifar", "--dataset", "fake", "--iters", "3", "-b", "8",
            "--val-split", "100", "--output", str(out), "--progress", "none", "--amp", "none", "--mask-act", "spatial"]
    assert main(args) == 0
    return out


def test_train_writes_results_and_config(trained):
    results = json.loads((trained / "results.json").read_text())
    assert {"test_top1", "test_top5", "best_val_top1", "wall_s"} <= results.keys()
    assert "mask_act: spatial" in (trained / "config.yaml").read_text()


def test_validate_results_file(trained, tmp_path, capsys):
    res = tmp_path / "val.json"
    assert main(["validate", "--checkpoint", str(trained / "best.pt"), "--split", "val",
                 "--results-file", str(res)]) == 0
    data = json.loads(res.read_text())
    assert data["split"] == "val" and data["images"] == 100 and 0 <= data["top1"] <= 100 and "top5" in data
    assert main(["validate", "--checkpoint", str(trained / "best.safetensors"), "--split", "test"]) == 0
    assert "top-1" in capsys.readouterr().out


def _validate_val(checkpoint, results_file):
    # the trainer evaluated in fp32 with channels_last; validate the same way
    assert main(["validate", "--checkpoint", str(checkpoint), "--split", "val", "--amp", "none", "--channels-last",
                 "--results-file", str(results_file)]) == 0
    return json.loads(results_file.read_text())


def test_validate_split_val_sees_the_runs_validation_images(trained, tmp_path):
    """`validate --split val` on best.pt gives the numbers the trainer measured for it on its validation split."""
    import csv

    from resattn.engine.checkpoint import load_checkpoint, save_checkpoint

    best_step = json.loads((trained / "results.json").read_text())["best_step"]
    with (trained / "summary.csv").open() as f:
        (row,) = [r for r in csv.DictReader(f) if int(r["step"]) == best_step]
    got = _validate_val(trained / "best.pt", tmp_path / "val.json")
    assert got["images"] == 100  # --val-split 100
    assert (got["top1"], got["top5"], got["loss"]) == (float(row["val_top1"]), float(row["val_top5"]),
                                                       float(row["val_loss"]))
    # best.safetensors holds no config: the run's config.yaml beside it gives the seed and the split
    from_weights = _validate_val(trained / "best.safetensors", tmp_path / "val_st.json")
    assert (from_weights["images"], from_weights["loss"]) == (100, got["loss"])
    # the split follows the checkpoint's seed: the same weights with another seed see other images
    state = load_checkpoint(trained / "best.pt")
    state["config"]["seed"] += 1
    save_checkpoint(state, tmp_path / "other_seed.pt")
    assert _validate_val(tmp_path / "other_seed.pt", tmp_path / "other.json")["loss"] != got["loss"]


def test_predict_images_and_folders(trained, tmp_path, capsys):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(2):
        Image.fromarray(np.full((40, 50, 3), 60 * i, dtype=np.uint8)).save(folder / f"im{i}.png")
    Image.fromarray(np.zeros((20, 20), dtype=np.uint8)).save(tmp_path / "gray.jpg")
    assert main(["predict", str(folder), str(tmp_path / "gray.jpg"), "--checkpoint", str(trained / "best.pt"),
                 "--topk", "2", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3 and all(len(item["predictions"]) == 2 for item in lines)
    assert lines[0]["predictions"][0]["label"].startswith("class_")


def test_predict_corrupt_image_is_clear(trained, tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    assert main(["predict", str(bad), "--checkpoint", str(trained / "best.pt")]) == 1  # 1: some images failed
    err = capsys.readouterr().err
    assert "bad.jpg" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["validate", "--checkpoint", "/nonexistent/best.pt"], "does not exist"),
        (["validate", "--model", "attention56_cifar", "--pretrained", "--dataset", "fake"], "No pretrained weights"),
        (["train", "--model", "attention57", "--dataset", "fake"], "Unknown model 'attention57'"),
        (["train", "--dataset", "mnist"], "mnist"),
        (["train", "--dataset", "fake", "--amp", "fp16", "--device", "cpu", "--iters", "1"], "fp16 needs a CUDA"),
    ],
)
def test_user_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_corrupt_checkpoint_is_clear(tmp_path, capsys):
    bad = tmp_path / "best.pt"
    bad.write_bytes(b"PK\x03\x04 truncated zip")
    assert main(["validate", "--checkpoint", str(bad), "--dataset", "fake"]) == 2
    err = capsys.readouterr().err
    assert "best.pt" in err and "Traceback" not in err


def test_yaml_recipe_and_flags_override(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("model: attention92_cifar\nbatch-size: 64\nlr: 0.1\niters: 100\nepochs: null\n")
    cfg = resolve_train_config(["-c", str(recipe), "--lr", "0.05"])
    assert (cfg.model, cfg.batch_size, cfg.lr, cfg.iters, cfg.epochs) == ("attention92_cifar", 64, 0.05, 100, None)
    recipe.write_text("modle: attention92_cifar\n")
    with pytest.raises(ValueError, match="did you mean 'model'"):
        resolve_train_config(["-c", str(recipe)])


def test_the_fake_data_set_validates_on_a_tenth_of_its_images_unless_told():
    # its 1,000 training images cannot give the built-in data sets' 5,000 (the README's torchrun example)
    assert resolve_train_config(["--dataset", "fake"]).val_split == 0.1
    assert resolve_train_config(["--dataset", "fake", "--val-split", "64"]).val_split == 64
    assert resolve_train_config([]).val_split == 5000
