"""Tests for resattn.engine.distributed: process-group set-up from torchrun's environment (the collectives, on real
groups, are in test_collectives.py)."""

from __future__ import annotations

import pytest
import torch

from resattn.engine import distributed as du

_DIST_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@pytest.fixture
def single_process_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _DIST_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("single_process_env")
def test_noop_when_not_distributed() -> None:
    assert not du.is_dist_initialized()
    info = du.init_distributed("cpu")
    assert info == du.DistInfo(enabled=False, rank=0, world_size=1, local_rank=0, device=torch.device("cpu"))
    assert du.get_rank() == 0 and du.get_world_size() == 1
    du.cleanup()
    assert not du.is_dist_initialized()


def test_world_size_one_is_not_distributed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("LOCAL_RANK", "0")
    info = du.init_distributed(torch.device("cpu"))
    assert not info.enabled and info.world_size == 1
    assert not du.is_dist_initialized()


def test_missing_rank_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.delenv("RANK", raising=False)
    with pytest.raises(RuntimeError, match="RANK"):
        du.init_distributed("cpu")
