import importlib.util
from pathlib import Path

import pytest
import torch

# One intra-op thread per test process: the tests' inputs are tiny, and on two shared cores (two pytest-xdist workers,
# or other jobs) intra-op threads spin-wait on each other and run several times slower than one thread.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture
def script_module():
    """Import a file of scripts/ (not a package) as a module: ``script_module("release_check").bars``."""
    def load(name: str):
        path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return load
