"""--val-split 0: every training image trains, nothing is selected, and the final weights are the run's result."""

import csv
import json

import pytest
import torch
from safetensors.torch import load_file

from resattn.cli import main
from resattn.engine import builders
from resattn.engine.checkpoint import load_checkpoint
from resattn.engine.trainer import Run


@pytest.fixture(autouse=True)
def small_mask_probe(monkeypatch):
    """64 of the fake dataset's 1,000 training images watch the masks: enough to measure, cheap on a CPU."""
    monkeypatch.setattr(builders, "MASK_PROBE_IMAGES", 64)


ARGS = ["train", "--model", "attention56_cifar", "--dataset", "fake", "--iters", "4", "-b", "8", "--val-split", "0",
        "--eval-interval", "2", "--warmup-iters", "1", "--amp", "none", "--no-channels-last", "--no-test"]


def test_a_run_without_a_validation_split_keeps_its_final_weights(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--model", "attention56_cifar", "--dataset", "fake", "--iters", "4", "-b", "8",
                 "--val-split", "0", "--eval-interval", "2", "--warmup-iters", "1", "--amp", "none",
                 "--no-channels-last", "--progress", "log", "--output", str(out)]) == 0
    log = capsys.readouterr().out
    assert "1000 train / no validation images" in log and "no validation split" in log
    results = json.loads((out / "results.json").read_text())
    assert results["best_val_top1"] is None and results["best_step"] == 4 and "test_top1" in results
    assert not (out / "best.pt").exists()
    final = load_checkpoint(out / "last.pt")
    exported = load_file(out / "best.safetensors")
    assert final["step"] == 4 and exported.keys() == final["model"].keys()
    assert all(torch.equal(exported[key], final["model"][key]) for key in exported)
    with (out / "summary.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [row["step"] for row in rows] == ["2", "4"]
    assert all(row["val_top1"] == "" and float(row["train_loss"]) > 0 for row in rows)
    assert (out / "curves.png").stat().st_size > 0


def summary_rows(out):
    with (out / "summary.csv").open() as f:
        return list(csv.DictReader(f))


def test_such_a_run_watches_its_masks_on_training_images(tmp_path, monkeypatch, capsys):
    probed = []
    measure = Run.measure

    def recording_measure(self, dataset):
        probed.append(len(dataset))
        return measure(self, dataset)

    monkeypatch.setattr(Run, "measure", recording_measure)
    out = tmp_path / "run"
    assert main([*ARGS, "--progress", "log", "--output", str(out)]) == 0
    assert "no validation split, mask contrast 0." in capsys.readouterr().out
    assert probed == [64, 64]  # one probe per evaluation, of the first images only
    for row in summary_rows(out):
        assert row["val_top1"] == ""
        contrast = [float(row[f"mask_contrast_stage{i}"]) for i in (1, 2, 3)]
        assert all(0 < c < 0.5 for c in contrast)  # a std of values in (0, 1), measured and not empty


def test_watching_the_masks_leaves_the_run_as_it_would_have_been(tmp_path, monkeypatch):
    """The probe draws nothing from the global RNG: the run ends with the weights of a run that does not watch."""
    watched, unwatched = tmp_path / "watched", tmp_path / "unwatched"
    assert main([*ARGS, "--progress", "none", "--output", str(watched)]) == 0
    monkeypatch.setattr(Run, "probe_masks", lambda self: {})
    assert main([*ARGS, "--progress", "none", "--output", str(unwatched)]) == 0
    assert summary_rows(watched)[0]["mask_contrast_stage1"] and "mask_contrast_stage1" not in summary_rows(unwatched)[0]
    a, b = load_file(watched / "best.safetensors"), load_file(unwatched / "best.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[key], b[key]) for key in a)


def test_validating_such_a_run_on_its_validation_split_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "fake", "--iters", "1", "-b", "4", "--val-split", "0", "--no-test",
                 "--amp", "none", "--progress", "none", "--output", str(out)]) == 0
    assert main(["validate", "--checkpoint", str(out / "last.pt"), "--split", "val"]) == 2
    err = capsys.readouterr().err
    assert "--val-split 0" in err and "--split test" in err and "Traceback" not in err
