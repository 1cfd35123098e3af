"""`scripts/train_release.sh`: an optional first argument names the run folder; every other argument goes to
`resattn train`. The script runs here with PYTHON=echo, so what it would run is printed instead."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train_release.sh"


def command_of(*args: str) -> list[str]:
    out = subprocess.run([str(SCRIPT), *args], env={**os.environ, "PYTHON": "echo"}, capture_output=True, text=True,
                         check=True).stdout
    return out.split()


@pytest.mark.parametrize(("args", "folder", "rest"), [
    ((), "runs/release_fmnist", []),
    (("--workers", "1"), "runs/release_fmnist", ["--workers", "1"]),
    (("my/run", "--workers", "1"), "my/run", ["--workers", "1"]),
    (("my/run",), "my/run", []),
])
def test_the_run_folder_and_the_flags_reach_resattn_train(args, folder, rest):
    words = command_of(*args)
    assert words[:4] == ["-m", "resattn", "train", "-c"]
    assert words[words.index("--output") + 1] == folder
    assert words[words.index("--resume") + 1] == "auto"
    assert words[len(words) - len(rest):] == rest
