"""The trainer on fake data: steps, outputs, exact resume, corrupted checkpoints, NaN stop, DDP equivalence."""

import json
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

from resattn.data import NoisyLabels, dataset_targets
from resattn.engine import trainer as trainer_mod
from resattn.engine.builders import build_data
from resattn.engine.checkpoint import CheckpointError, load_checkpoint
from resattn.engine.config import TrainConfig
from resattn.engine.loop import NonFiniteLossError
from resattn.engine.trainer import Run, train


def fake_config(tmp_path, name="run", **kwargs):
    base = dict(model="attention56_cifar", dataset="fake", val_split=100, epochs=None, iters=6, batch_size=8,
                eval_interval=3, save_interval=2, warmup_iters=2, amp="none", channels_last=False,
                output=str(tmp_path / name), progress="none", seed=3)
    base.update(kwargs)
    return TrainConfig().update(base, "test")


def model_state(path):
    return load_checkpoint(path)["model"]


def test_a_few_steps_leave_every_output(tmp_path):
    results = train(fake_config(tmp_path, iters=4, eval_interval=2))
    out = tmp_path / "run"
    for name in ("config.yaml", "summary.csv", "curves.png", "last.pt", "best.pt", "best.safetensors",
                 "results.json"):
        assert (out / name).exists(), name
    assert any((out / "tb").iterdir())
    assert json.loads((out / "results.json").read_text())["test_top1"] == results["test_top1"]
    rows = (out / "summary.csv").read_text().splitlines()
    assert rows[0].startswith("step,epoch,train_loss,val_loss,val_top1,val_top5,lr,images_per_s,wall_s")
    assert len(rows) == 3  # header + evaluations at steps 2 and 4
    # The whole training state is tensors and built-in values: torch's weights-only loader takes it as it is.
    state = torch.load(out / "last.pt", weights_only=True)
    assert {"model", "optimizer", "rng", "config", "step"} <= state.keys()


def test_killed_and_resumed_run_is_bit_identical(tmp_path, monkeypatch):
    kwargs = dict(iters=10, drop_rate=0.2)  # dropout and augmentation both draw from the RNG
    train(fake_config(tmp_path, "straight", **kwargs))

    original = Run.on_step

    def crash_at_7(self, step, loss, images):
        stop = original(self, step, loss, images)
        if step == 7:
            raise RuntimeError("simulated crash")
        return stop

    monkeypatch.setattr(Run, "on_step", crash_at_7)
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(fake_config(tmp_path, "crashed", **kwargs))
    monkeypatch.setattr(Run, "on_step", original)
    assert load_checkpoint(tmp_path / "crashed" / "last.pt")["step"] == 6  # saved every 2 steps
    train(fake_config(tmp_path, "crashed", resume="auto", **kwargs))

    a, b = model_state(tmp_path / "straight" / "last.pt"), model_state(tmp_path / "crashed" / "last.pt")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    opt_a = load_checkpoint(tmp_path / "straight" / "last.pt")["optimizer"]["state"]
    opt_b = load_checkpoint(tmp_path / "crashed" / "last.pt")["optimizer"]["state"]
    assert all(torch.equal(opt_a[k]["momentum_buffer"], opt_b[k]["momentum_buffer"]) for k in opt_a)


def test_corrupted_last_checkpoint_falls_back_to_previous(tmp_path, caplog):
    train(fake_config(tmp_path, iters=4, eval_interval=4))
    out = tmp_path / "run"
    last = out / "last.pt"
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])  # truncated, as by a crash mid-copy
    with pytest.raises(CheckpointError, match=str(last)):
        load_checkpoint(last)
    results = train(fake_config(tmp_path, iters=6, eval_interval=4, resume="auto"))
    assert "last.pt" in caplog.text  # the warning names the bad file
    assert results["iterations"] == 6
    assert load_checkpoint(last)["step"] == 6


def test_explicit_resume_from_garbage_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="bad.pt"):
        train(fake_config(tmp_path, resume=str(bad)))


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    real = trainer_mod.train_one_epoch.__globals__["F"].cross_entropy
    calls = {"n": 0}

    def flaky(logits, target, **kw):
        calls["n"] += 1
        loss = real(logits, target, **kw)
        return loss * float("nan") if calls["n"] == 5 else loss

    monkeypatch.setattr(trainer_mod.train_one_epoch.__globals__["F"], "cross_entropy", flaky)
    with pytest.raises(NonFiniteLossError, match="at step 4"):
        train(fake_config(tmp_path, iters=8, save_interval=1, eval_interval=100))
    state = load_checkpoint(tmp_path / "run" / "last.pt")
    assert state["step"] == 4
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())


def test_label_noise_only_touches_training_subset(tmp_path):
    data = build_data(fake_config(tmp_path, label_noise=0.5, val_split=200), None)
    clean = dataset_targets(data["train"].dataset)
    realised = (data["train"].targets != clean).float().mean().item()
    assert realised == pytest.approx(data["realised_noise"]) and 0.4 < realised < 0.6
    assert not isinstance(data["val"], NoisyLabels) and not isinstance(data["test"], NoisyLabels)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank, world, port, cfg_dict):
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port), GLOO_SOCKET_IFNAME="lo")
    torch.set_num_threads(1)
    train(TrainConfig().update(cfg_dict, "test"))


@pytest.mark.slow
def test_ddp_two_processes_match_one_process_with_same_global_batch(tmp_path):
    common = dict(iters=3, batch_size=16, augment=False, eval_interval=3, save_interval=3, device="cpu")
    ddp_cfg = fake_config(tmp_path, "ddp", **common).to_dict()
    mp.spawn(_ddp_worker, args=(2, _free_port(), ddp_cfg), nprocs=2, join=True)
    # One process, the same global batch of 16 in two micro-batches of 8: per-micro-batch BN as on each rank.
    # One intra-op thread like the workers: other thread counts sum in another order (float rounding only).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train(fake_config(tmp_path, "single", grad_accum=2, **common))
    finally:
        torch.set_num_threads(threads)
    ddp, single = model_state(tmp_path / "ddp" / "last.pt"), model_state(tmp_path / "single" / "last.pt")
    params = [k for k in single if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    for key in params:
        torch.testing.assert_close(ddp[key], single[key], rtol=1e-4, atol=1e-5, msg=key)


def test_ema_weights_are_saved_and_used_for_the_test(tmp_path):
    results = train(fake_config(tmp_path, iters=3, ema_decay=0.5, eval_interval=3))
    state = load_checkpoint(tmp_path / "run" / "best.pt")
    assert state["ema"] is not None and state["ema"].keys() == state["model"].keys()
    assert any(not torch.equal(state["ema"][k], state["model"][k]) for k in state["model"])
    assert "test_top1" in results


def test_swa_run_ships_and_evaluates_the_average(tmp_path, monkeypatch):
    validated = []
    original = Run.validate

    def spy(self):
        validated.append((self.step, self.shipped_model() is self.model))
        return original(self)

    monkeypatch.setattr(Run, "validate", spy)
    cfg = fake_config(tmp_path, iters=None, epochs=3, swa_epochs=2, val_split=976, eval_interval=3, save_interval=1000)
    train(cfg)
    # 3 steps an epoch (24 images of 8), the last 2 epochs averaged: snapshots after steps 6 and 9. Until the first,
    # the run validates its own weights, then the average.
    assert validated == [(3, True), (6, False), (9, False)]
    last = load_checkpoint(tmp_path / "run" / "last.pt")
    assert last["ema"] is not None
    assert any(not torch.equal(last["ema"][k], last["model"][k]) for k in last["model"] if "running" not in k)


def test_swa_longer_than_the_run_or_beside_an_ema_is_refused(tmp_path):
    with pytest.raises(ValueError, match="longer than the run"):
        train(fake_config(tmp_path, "long", iters=None, epochs=1, swa_epochs=2, val_split=976))
    with pytest.raises(ValueError, match="at most one of --swa-epochs and --ema-decay"):
        train(fake_config(tmp_path, "both", iters=None, epochs=2, swa_epochs=1, ema_decay=0.9, val_split=976))


@pytest.mark.slow
def test_torchrun_cli_two_processes(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "torchrun"
    env = dict(os.environ, OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="lo")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(_free_port()), "-m", "resattn", "train", "--dataset", "fake", "--device", "cpu",
           "--iters", "2", "--batch-size", "8", "--val-split", "50", "--output", str(out), "--progress", "log"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("test top-1") == 1  # rank 0 alone logs
    assert load_checkpoint(out / "last.pt")["world_size"] == 2


def test_an_existing_run_is_not_overwritten(tmp_path):
    train(fake_config(tmp_path, iters=2, eval_interval=2))
    with pytest.raises(ValueError, match="already holds a run; continue it with --resume auto"):
        train(fake_config(tmp_path, iters=2, eval_interval=2))


def test_image_folder_training_uses_folder_classes_and_its_val_and_test_folders(tmp_path):
    import numpy as np
    from PIL import Image

    root = tmp_path / "tree"
    for split, count in (("train", 12), ("val", 4), ("test", 2)):
        for c, colour in enumerate(((250, 0, 0), (0, 0, 250), (0, 250, 0))):
            folder = root / split / f"class{c}"
            folder.mkdir(parents=True)
            for i in range(count):
                Image.fromarray(np.full((40, 48, 3), colour, dtype=np.uint8)).save(folder / f"{i}.png")
    cfg = fake_config(tmp_path, dataset="folder", data_dir=str(root), img_size=32, iters=2, eval_interval=2)
    data = build_data(cfg, None)
    assert (len(data["train"]), len(data["val"]), len(data["test"])) == (36, 12, 6)  # val/ and test/, nothing carved
    results = train(cfg)
    assert results["test_images"] == 6  # the test/ folder, 3 classes x 2
    assert load_checkpoint(tmp_path / "run" / "best.pt")["class_names"] == ["class0", "class1", "class2"]


def test_signal_to_the_whole_process_group_stops_cleanly_with_loader_workers(tmp_path):
    """Ctrl-C / `timeout` / schedulers signal every process of the group, loader workers included: the run must still
    finish its step, save and stop, not die of a killed worker."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "resattn", "train", "--dataset", "fake", "--iters", "100000", "-b", "8",
           "--val-split", "100", "--eval-interval", "100000", "--workers", "2", "--amp", "none", "--no-channels-last",
           "--log-interval", "1", "--progress", "log", "--output", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    for line in proc.stdout:  # wait until training steps are running (workers started)
        lines.append(line)
        if line.startswith("step 3/"):
            break
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGTERM)
    rest, _ = proc.communicate(timeout=120)
    text = "".join(lines) + rest
    assert proc.returncode == 0, text
    assert "continue with --resume auto" in text and "DataLoader worker" not in text
    assert load_checkpoint(out / "last.pt")["step"] >= 3


def test_a_run_with_loader_workers_exits_when_it_has_finished(tmp_path):
    """Persistent loader workers ignore SIGTERM, so the trainer must shut them down itself: the interpreter's exit
    handler terminates daemon children with SIGTERM and then joins them without a timeout."""
    import subprocess
    import sys

    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "resattn", "train", "--dataset", "fake", "--iters", "12", "-b", "16",
           "--val-split", "940", "--eval-interval", "6", "--workers", "1", "--amp", "none", "--no-channels-last",
           "--no-test", "--progress", "log", "--output", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=150)  # without the shutdown: never returns
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert (out / "results.json").is_file()
