"""scripts/release_check.py: its bars on measured reports, and end to end on a short run on fake data (the three
measurements run, their records are written, and every bar is read from them; a 3-step run on noise fails the
accuracy bar, so the status is 1)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from resattn.cli import main

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "release_check.py"


def test_bars_pass_only_at_or_above_each_threshold(script_module):
    bars = script_module("release_check").bars
    health = dict(top1=95.3, all_modules=dict(knockout_spatial_mean_top1=94.8), stages=dict(stage1=0.03, stage2=0.1))
    rows = bars(dict(top1=95.0), health)
    assert [(r["value"], r["passed"]) for r in rows] == [(95.0, True), (0.5, True), (0.03, True), (0.1, True)]
    health.update(all_modules=dict(knockout_spatial_mean_top1=95.0), stages=dict(stage1=0.0299, stage2=0.1))
    rows = bars(dict(top1=94.99), health)
    assert [(r["value"], r["passed"]) for r in rows] == [(94.99, False), (0.3, False), (0.0299, False), (0.1, True)]
    assert rows[2]["bar"] == "stage1 median spatial contrast >= 0.03"


@pytest.mark.slow
@pytest.mark.parametrize("val_split", ["64", "0"])  # 0: no validation split, the final weights are measured
def test_release_check_measures_a_run_against_the_bars(tmp_path, val_split):
    run = tmp_path / "run"
    assert main(["train", "--model", "attention56_cifar", "--dataset", "fake", "--iters", "3", "-b", "8",
                 "--val-split", val_split, "--output", str(run), "--progress", "none", "--amp", "none"]) == 0
    out = tmp_path / "check"
    argv = [sys.executable, str(SCRIPT), str(run), "--output", str(out), "--num-images", "32"]
    proc = subprocess.run(argv, capture_output=True, text=True, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    test = json.loads((out / "validate_test.json").read_text())
    health = json.loads((out / "mask_health_test.json").read_text())
    if val_split == "0":
        assert not (out / "mask_health_val.json").exists() and "best.safetensors" in proc.stdout
    else:
        assert json.loads((out / "mask_health_val.json").read_text())["split"] == "val"
    rows = {row["bar"]: row for row in json.loads((out / "bars.json").read_text())}
    assert rows["test top-1 >= 95.0%"] == dict(bar="test top-1 >= 95.0%", value=test["top1"], passed=False)
    knockout = rows["M -> spatial mean costs >= 0.5 test points"]["value"]
    assert knockout == round(health["top1"] - health["all_modules"]["knockout_spatial_mean_top1"], 2)
    stages = [bar for bar in rows if bar.endswith("median spatial contrast >= 0.03")]
    assert len(stages) == 3 and all(rows[bar]["value"] == round(health["stages"][bar.split()[0]], 4)
                                    for bar in stages)
    assert "FAIL  test top-1 >= 95.0%" in proc.stdout


def test_release_check_says_when_the_run_has_not_finished(tmp_path):
    for mid_run_file in (None, "best.pt"):  # a stopped run already has best.pt; only its end writes results.json
        if mid_run_file:
            (tmp_path / mid_run_file).write_bytes(b"")
        proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True)
        assert proc.returncode == 2 and "has not finished" in proc.stderr and "Traceback" not in proc.stderr


def test_release_check_of_a_run_without_validation_waits_for_its_final_weights(tmp_path):
    (tmp_path / "config.yaml").write_text("val_split: 0\n")
    (tmp_path / "last.pt").write_bytes(b"")
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 2 and "no best.safetensors" in proc.stderr and "has not finished" in proc.stderr
