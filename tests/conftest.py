import pytest
import torch

# One intra-op thread per test process: the tests' inputs are tiny, and on two shared cores (two pytest-xdist workers,
# or other jobs) intra-op threads spin-wait on each other and run several times slower than one thread.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
