"""The trainer on two ranks (gloo, CPU): collectives on the backend's device, synchronised stops, the end of a run,
resuming under another world size, and two "machines" on localhost.

Every multi-process run has a deadline (``rank_runner``), so a deadlock fails the test instead of stalling the
suite. The runs share one small configuration and, within a pytest-xdist session, one worker (``xdist_group``):
the uninterrupted reference run is made once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from rank_runner import assert_all_succeeded, free_port, run_ranks
from safetensors.torch import load_file
from strict_group import available as stand_in_available

from resattn.engine.checkpoint import load_checkpoint, save_checkpoint

pytestmark = [
    pytest.mark.xdist_group("distributed_training"),
    pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                       reason="needs torch.distributed with gloo"),
]

ITERS = 8
# Small enough for two ranks on two shared cores; augmentation and dropout draw from every rank's RNG, so an exact
# resume needs every rank's RNG state back.
CONFIG = dict(model="attention56_cifar", dataset="fake", img_size=16, val_split=64, epochs=None, iters=ITERS,
              batch_size=8, eval_interval=4, save_interval=4, warmup_iters=2, amp="none", channels_last=False,
              drop_rate=0.2, device="cpu", progress="log", log_interval=1, seed=3, test=False)


def weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path)["model"]


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:3]}"


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """An uninterrupted two-rank run, under a process group that refuses tensors on the wrong device."""
    out = tmp_path_factory.mktemp("reference")
    spec = dict(config=dict(CONFIG, output=str(out / "run")), strict=stand_in_available())
    results = run_ranks(2, spec, out / "ranks")
    assert_all_succeeded(results)
    return out / "run"


@pytest.mark.skipif(not stand_in_available(), reason="needs PyTorch's lazy-tensor device")
def test_every_collective_of_the_trainer_is_on_the_backends_device(reference):
    """The trainer's own collectives (evaluation, stop votes, checkpoints, the end of the run) under a group that,
    like NCCL, takes no CPU tensor: before, a CPU tensor broadcast after the first evaluation."""
    assert load_checkpoint(reference / "last.pt")["step"] == ITERS
    assert (reference / "best.safetensors").exists() and (reference / "results.json").exists()


def test_a_signal_to_one_rank_stops_every_rank_at_the_same_step_and_resumes_exactly(reference, tmp_path):
    """SIGTERM reaches rank 1 alone at step 3: both ranks stop after the same step with one checkpoint (before, rank 1
    entered the checkpoint's collectives while rank 0 entered the next step's all-reduce, and both waited for ever),
    and the resumed run ends on the reference's weights bit for bit."""
    run = tmp_path / "run"
    config = dict(CONFIG, output=str(run))
    stopped = run_ranks(2, dict(config=config, signal=dict(rank=1, step=3)), tmp_path / "stopped")
    assert_all_succeeded(stopped)
    at = {r.results["stopped_at"] for r in stopped}
    assert len(at) == 1 and 3 <= at.pop() < ITERS
    step = load_checkpoint(run / "last.pt")["step"]
    assert stopped[0].results["stopped_at"] == step
    assert stopped[0].output.count("stopped at step") == 1

    resumed = run_ranks(2, dict(config=dict(config, resume="auto")), tmp_path / "resumed")
    assert_all_succeeded(resumed)
    assert f"resumed from {run / 'last.pt'} at step {step}/{ITERS}" in resumed[0].output
    assert_same_weights(weights(run / "last.pt"), weights(reference / "last.pt"))


def test_a_run_whose_best_checkpoint_is_elsewhere_ends_on_every_rank(reference, tmp_path):
    """Resumed into a new folder from a checkpoint whose best validation accuracy is never beaten, the run has no
    best.pt at its end: it ships its current weights (before, rank 0 alone entered a collective to make a checkpoint
    of them, and the run hung), and both ranks evaluate the test split on them."""
    state = load_checkpoint(reference / "last.pt")
    state.update(step=ITERS - 2, best_top1=101.0)
    start = tmp_path / "start.pt"
    save_checkpoint(state, start)
    run = tmp_path / "run"
    config = dict(CONFIG, output=str(run), resume=str(start), test=True)
    results = run_ranks(2, dict(config=config), tmp_path / "ranks")
    assert_all_succeeded(results)
    assert not (run / "best.pt").exists() and (run / "results.json").exists()
    shipped = load_file(run / "best.safetensors")
    assert_same_weights(shipped, {k: v for k, v in weights(run / "last.pt").items() if k in shipped})
    per_rank = [{k: v for k, v in r.results.items() if k != "wall_s"} for r in results]  # wall_s: each rank's clock
    assert per_rank[0] == per_rank[1]  # the test metrics, all-reduced: the same on both ranks
    assert results[0].results["best_step"] == ITERS and results[0].results["test_images"] == 250


@pytest.mark.slow
def test_resuming_under_another_world_size(reference, tmp_path):
    """A two-rank checkpoint continues on one process (with two micro-batches, the same global batch)."""
    state = load_checkpoint(reference / "last.pt")
    assert state["world_size"] == 2
    state["step"] = ITERS - 2
    start = tmp_path / "start.pt"
    save_checkpoint(state, start)
    results = run_ranks(1, dict(config=dict(CONFIG, output=str(tmp_path / "run"), resume=str(start), grad_accum=2)),
                        tmp_path / "ranks")
    assert_all_succeeded(results)
    assert "resuming with another world size" in results[0].output
    assert load_checkpoint(tmp_path / "run" / "last.pt")["world_size"] == 1
    assert load_checkpoint(tmp_path / "run" / "last.pt")["step"] == ITERS


@pytest.mark.slow
def test_two_machines_on_localhost_with_the_readmes_torchrun_command(tmp_path):
    """The README's two-machine command (c10d rendezvous) as two torchrun invocations on this machine."""
    port, out = free_port(), tmp_path / "run"
    common = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc_per_node", "1",
              "--rdzv_backend", "c10d", "--rdzv_endpoint", f"127.0.0.1:{port}", "-m", "resattn", "train",
              "--device", "cpu", "--dataset", "fake", "--img-size", "16", "--iters", "4", "-b", "8",
              "--val-split", "64", "--no-test", "--output", str(out), "--progress", "log"]
    env = dict(os.environ, OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="lo")
    logs = [tmp_path / f"node{n}.log" for n in range(2)]
    procs = []
    for log in logs:  # the same command on both "machines": the rendezvous numbers the processes
        with log.open("w") as f:  # a session each: a hang is ended by killing the agent's process group
            procs.append(subprocess.Popen(common, stdout=f, stderr=subprocess.STDOUT, env=env,
                                          start_new_session=True))
    try:
        for proc in procs:
            proc.wait(timeout=300)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    outputs = "\n".join(f"--- node {n}:\n{log.read_text()[-3000:]}" for n, log in enumerate(logs))
    assert all(p.returncode == 0 for p in procs), outputs
    state = load_checkpoint(out / "last.pt")
    assert state["world_size"] == 2 and state["step"] == 4
