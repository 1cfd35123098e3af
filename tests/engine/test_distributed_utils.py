"""Tests for resattn.engine.distributed: the single-process no-op path and a real 2-process gloo group."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

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
    assert info.is_main
    assert du.is_main_process()
    assert du.get_rank() == 0 and du.get_world_size() == 1
    du.barrier()

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert torch.equal(du.all_reduce_sum(y), torch.tensor([2.0, 4.0]))
    mean = du.all_reduce_mean(y)
    assert torch.equal(mean, torch.tensor([2.0, 4.0])) and not mean.requires_grad
    assert du.all_reduce_mean(torch.tensor(3)).dtype == torch.get_default_dtype()

    obj = {"a": [1, 2]}
    assert du.broadcast_object(obj) is obj
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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(local_rank: int, world_size: int, port: int, out_dir: str) -> None:
    # Mimic what torchrun exports for each process; loopback only.
    os.environ.update(
        {
            "RANK": str(local_rank),
            "LOCAL_RANK": str(local_rank),
            "WORLD_SIZE": str(world_size),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
    )
    if sys.platform.startswith("linux"):
        # Keep gloo on loopback instead of whatever interface the hostname resolves to.
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    info = du.init_distributed("cpu")
    try:
        result = {
            "info": [info.enabled, info.rank, info.world_size, info.local_rank, str(info.device)],
            "main": du.is_main_process(),
            "backend": str(dist.get_backend()),
            "mean": du.all_reduce_mean(torch.tensor([float(info.rank + 1), 10.0 * info.rank])).tolist(),
            "sum": du.all_reduce_sum(torch.tensor([info.rank + 1])).tolist(),
            "int_mean": du.all_reduce_mean(torch.tensor(info.rank)).item(),
            "bcast": du.broadcast_object({"from": info.rank, "cfg": [1, "x"]} if info.rank == 0 else None),
            "bcast_src1": du.broadcast_object(f"rank{info.rank}", src=1),
        }
        local = torch.tensor([5.0])
        du.all_reduce_sum(local)
        result["input_untouched"] = local.item()
        du.barrier()
        Path(out_dir, f"rank{info.rank}.json").write_text(json.dumps(result))
    finally:
        du.cleanup()


@pytest.mark.slow
@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="needs torch.distributed gloo")
def test_two_process_gloo(tmp_path: Path) -> None:
    world_size = 2
    mp.spawn(_worker, args=(world_size, _free_port(), str(tmp_path)), nprocs=world_size, join=True)
    results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(world_size)]
    for rank, res in enumerate(results):
        assert res["info"] == [True, rank, world_size, rank, "cpu"]
        assert res["main"] is (rank == 0)
        assert res["backend"] == "gloo"
        assert res["mean"] == [1.5, 5.0]
        assert res["sum"] == [3]
        assert res["int_mean"] == 0.5
        assert res["bcast"] == {"from": 0, "cfg": [1, "x"]}
        assert res["bcast_src1"] == "rank1"
        assert res["input_untouched"] == 5.0
