"""`scripts/train_release.sh`: two stages, the warm restart starting from the first stage's selected weights; an
optional first argument names the run folder; every other argument goes to both `resattn train` commands. The script
runs here with PYTHON=echo, so what it would run is printed instead."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train_release.sh"


def commands_of(*args: str) -> list[list[str]]:
    out = subprocess.run([str(SCRIPT), *args], env={**os.environ, "PYTHON": "echo"}, capture_output=True, text=True,
                         check=True).stdout
    return [line.split() for line in out.splitlines()]


@pytest.mark.parametrize(("args", "folder", "rest"), [
    ((), "runs/release_fmnist", []),
    (("--workers", "1"), "runs/release_fmnist", ["--workers", "1"]),
    (("my/run", "--workers", "1"), "my/run", ["--workers", "1"]),
    (("my/run",), "my/run", []),
])
def test_the_run_folder_and_the_flags_reach_both_stages(args, folder, rest):
    first, restart = commands_of(*args)
    for words, config, output in ((first, "fashion_mnist_release", folder),
                                  (restart, "fashion_mnist_release_restart", f"{folder}/restart")):
        assert words[:5] == ["-m", "resattn", "train", "-c", config]
        assert words[words.index("--output") + 1] == output
        assert words[words.index("--resume") + 1] == "auto"
        assert "--no-test" in words  # the one look at the test split is release_check.py's
        assert words[len(words) - len(rest):] == rest
    assert restart[restart.index("--initial-checkpoint") + 1] == f"{folder}/best.pt"
