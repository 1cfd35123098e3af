"""scripts/mask_ablation_table.py: the decay exposure of the mask branches and of their heads, with the fallbacks of
`resattn train` (heads take their branch's decay, branches the global one), against sums worked by hand."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "mask_ablation_table.py"


def _config(**decays):
    # constant LR 0.1 for 10 steps, no warm-up: sum lr = 1.0, so the exposure is 2 wd
    return dict(lr=0.1, sched="constant", milestones=[], lr_gamma=0.1, warmup_iters=0, weight_decay=1e-3, **decays)


@pytest.mark.parametrize("decays, expected", [
    (dict(), (2e-3, 2e-3)),
    (dict(mask_weight_decay=0.0), (0.0, 0.0)),
    (dict(mask_head_weight_decay=0.0), (2e-3, 0.0)),
    (dict(mask_weight_decay=5e-3, mask_head_weight_decay=None), (1e-2, 1e-2)),
    (dict(mask_weight_decay=0.0, mask_head_weight_decay=2e-3), (0.0, 4e-3)),
])
def test_exposures_follow_the_trainers_fallbacks(decays, expected, script_module):
    branch, head = script_module("mask_ablation_table").decay_exposures(_config(**decays), steps=10, total_iters=10)
    assert branch == pytest.approx(expected[0]) and head == pytest.approx(expected[1])


def test_exposure_counts_only_the_steps_run(script_module):
    branch, _ = script_module("mask_ablation_table").decay_exposures(_config(), steps=4, total_iters=10)
    assert branch == pytest.approx(2 * 1e-3 * 0.4)


def test_recipe_overrides_read_exponent_numbers():
    # YAML 1.1 reads 5e-4 as a string; the script must take it as the number a user means
    out = subprocess.run([sys.executable, str(SCRIPT), "--recipe", "fashion_mnist_release", "--set",
                          "mask-weight-decay=5e-4", "--set", "mask-head-weight-decay=0"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "fashion_mnist_release: 8560 steps, mask decay exposure 1.71 (their heads 0)"


@pytest.mark.parametrize("argv, message", [
    (["--recipe", "fashion_mnist_release", "--set", "lr=abc"], "--set lr=abc: lr takes a number"),
    (["--recipe", "fashion_mnist_release", "--set", "no-such=1"], "no_such is not a setting"),
    (["no/such/folder"], "no/such/folder: no such folder of runs"),
    (["--set", "lr=0.1"], "--set overrides a recipe: give the recipe with --recipe"),
])
def test_bad_input_is_a_clear_error(argv, message):
    out = subprocess.run([sys.executable, str(SCRIPT), *argv], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr
