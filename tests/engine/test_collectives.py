"""resattn.engine.collectives, StopVote and evaluate_sharded: which device a backend needs, the single-process
identities, and real gloo groups of 2 and 3 processes under a group that refuses tensors on the wrong device."""

from __future__ import annotations

import pytest
import torch
import torch.distributed as dist
from collective_scenarios import fake_images, small_net
from rank_runner import assert_all_succeeded, run_ranks
from strict_group import available as stand_in_available

from resattn.engine import collectives as co
from resattn.engine.common import eval_loader
from resattn.engine.loop import evaluate
from resattn.engine.sharded_eval import ShardBatches
from resattn.engine.stop import StopVote

needs_gloo = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                                reason="needs torch.distributed with gloo")
needs_stand_in = pytest.mark.skipif(not stand_in_available(), reason="needs PyTorch's lazy-tensor device")


@pytest.mark.parametrize(("backend", "expected"), [
    ("nccl", "cuda:3"),  # NCCL takes CUDA tensors only, on this process's device
    ("cpu:gloo,cuda:nccl", "cpu"),  # a CPU backend: no copy to the device and back
    ("gloo", "cpu"),
])
def test_the_communication_device_follows_the_backend(monkeypatch, backend, expected):
    monkeypatch.setattr(dist, "get_backend", lambda group=None: backend)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 3)
    assert co.comm_device() == torch.device(expected)


def test_a_backend_without_cpu_on_a_machine_without_its_device_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(dist, "get_backend", lambda group=None: "nccl")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="'nccl' takes tensors on \\['cuda'\\] only"):
        co.comm_device()


def test_without_a_process_group_every_collective_is_the_identity():
    assert not dist.is_initialized()
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    for reduce in (co.all_reduce_sum, co.all_reduce_max, co.broadcast_tensor):
        result = reduce(y)
        assert torch.equal(result, torch.tensor([2.0, 4.0])) and not result.requires_grad
    assert co.all_reduce_mean(torch.tensor(3)).dtype == torch.get_default_dtype()
    obj = {"a": [1]}
    assert co.broadcast_object(obj) is obj and co.gather_objects(obj) == [obj]
    co.broadcast_module(torch.nn.Linear(2, 2))
    co.barrier()
    vote = StopVote(distributed=False)
    assert not vote.poll()
    vote.request()
    assert vote.poll()  # one process decides at once


def test_shards_cover_the_batches_of_one_process_once():
    n, size, world = 50, 8, 3
    shards = [list(ShardBatches(n, size, r, world)) for r in range(world)]
    batches = sorted((b for shard in shards for b in shard), key=lambda b: b[0])
    assert batches == [list(range(i, min(n, i + size))) for i in range(0, n, size)]
    assert list(ShardBatches(12, 8, 2, 3)) == []


@needs_gloo
@needs_stand_in
def test_two_ranks_under_a_device_strict_group(tmp_path):
    results = run_ranks(2, dict(call="collective_scenarios:collectives", strict=True), tmp_path, timeout=180)
    assert_all_succeeded(results)
    for r in results:
        got = r.results
        assert got["sum"] == [3.0, 10.0] and got["mean"] == 0.5 and got["max"] == [2.0, 10.0]
        assert got["untouched"] == [r.rank + 1.0, 10.0 * r.rank]
        assert got["broadcast"] == [1, 1]
        assert got["module"] == [7.0] * 4
        assert got["objects"] == [{"rank": 0}, {"rank": 1}] and got["object"] == "from rank 0"
        # rank 1 asked at the second vote; with a lag of 2 every rank reads it at the fourth
        assert got["decisions"] == [False, False, False, True, True, True]


@needs_gloo
def test_sharded_evaluation_equals_one_process_exactly(tmp_path):
    spec = dict(call="collective_scenarios:sharded_evaluation", strict=stand_in_available())
    results = run_ranks(3, spec, tmp_path, timeout=180)
    assert_all_succeeded(results)
    net = small_net()
    for n in (50, 12):
        alone = evaluate(net, eval_loader(fake_images(n), 8, 0), torch.device("cpu"))
        for r in results:
            got = r.results[str(n)]
            assert {k: got[k] for k in ("loss", "top1", "top5", "images")} == {
                k: alone[k] for k in ("loss", "top1", "top5", "images")}, (n, r.rank)
