"""Tests for resattn.engine.checkpoint and resattn.engine.rng."""

from __future__ import annotations

import logging
import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open

from resattn.engine import checkpoint as ckpt
from resattn.engine.checkpoint import (
    FORMAT_KEY,
    CheckpointError,
    checkpoint_weights,
    export_safetensors,
    load_checkpoint,
    load_resume_checkpoint,
    load_safetensors,
    previous_path,
    save_checkpoint,
)
from resattn.engine.rng import get_rng_state, set_rng_state


class _Trap:
    """A pickled object that, if unpickled, would run code: here, create the file at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def _tiny_model() -> torch.nn.Module:
    torch.manual_seed(0)
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2))


def _training_state() -> dict:
    model = _tiny_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    model(torch.randn(2, 3, 3, 3)).sum().backward()
    opt.step()
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    return {
        "model": model.state_dict(),
        "ema": {k: v.clone() * 0.5 for k, v in model.state_dict().items()},
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "epoch": 3,
        "best_top1": 71.25,
        "config": {"arch": "attention56", "betas": (0.9, 0.999), "tags": ["a", "b"], "none": None},
        "rng": get_rng_state(),
    }


def _assert_same(a, b) -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b)
    elif isinstance(a, dict):
        # Key order is not compared: safetensors stores tensors sorted by dtype and size, not by insertion.
        assert isinstance(b, dict) and sorted(a, key=repr) == sorted(b, key=repr)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    else:
        assert a == b


def _leftover_temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# ---------------------------------------------------------------------------------------------------------------
# RNG
# ---------------------------------------------------------------------------------------------------------------


def _draw() -> tuple:
    return (
        [random.random() for _ in range(3)],
        random.gauss(0.0, 1.0),
        np.random.rand(3).tolist(),
        float(np.random.standard_normal()),
        torch.rand(3).tolist(),
        torch.randint(0, 1000, (4,)).tolist(),
    )


def test_rng_state_restores_all_generators() -> None:
    random.gauss(0.0, 1.0)  # leave a cached gaussian behind so that part of the state is exercised too
    np.random.standard_normal()
    state = get_rng_state()
    first = _draw()
    set_rng_state(state)
    assert _draw() == first


def test_rng_state_survives_weights_only_checkpoint(tmp_path: Path) -> None:
    path = save_checkpoint({"rng": get_rng_state()}, tmp_path / "rng.pt")
    first = _draw()
    _draw()  # advance further so that restoring really has to rewind
    set_rng_state(load_checkpoint(path)["rng"])
    assert _draw() == first


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_rng_state_restores_cuda_and_maps_to_cpu(tmp_path: Path) -> None:
    state = get_rng_state()
    assert len(state["cuda"]) == torch.cuda.device_count()
    path = save_checkpoint({"rng": state, "w": torch.ones(2, device="cuda")}, tmp_path / "cuda.pt")
    first = torch.rand(4, device="cuda").tolist()
    loaded = load_checkpoint(path)  # map_location="cpu" by default
    assert loaded["w"].device.type == "cpu"
    set_rng_state(loaded["rng"])
    assert torch.rand(4, device="cuda").tolist() == first


def test_rng_state_rejects_newer_version() -> None:
    with pytest.raises(ValueError, match="newer"):
        set_rng_state({"version": 999})



# ---------------------------------------------------------------------------------------------------------------
# save / load
# ---------------------------------------------------------------------------------------------------------------


def test_round_trip(tmp_path: Path) -> None:
    state = _training_state()
    path = save_checkpoint(state, tmp_path / "sub" / "last.pt")
    assert path == tmp_path / "sub" / "last.pt"
    loaded = load_checkpoint(path)
    assert FORMAT_KEY not in state  # the caller's dict is not modified
    _assert_same(state, {k: v for k, v in loaded.items() if k != FORMAT_KEY})
    assert list(loaded["model"]) == list(state["model"])  # torch.save keeps insertion order
    assert torch.load(path, weights_only=True)["epoch"] == 3  # any torch reads it without trusting it
    assert _leftover_temp_files(path.parent) == []


def test_keep_previous_rotation(tmp_path: Path) -> None:
    path = tmp_path / "last.pt"
    save_checkpoint({"epoch": 1}, path, keep_previous=True)
    assert not previous_path(path).exists()  # nothing to rotate the first time
    save_checkpoint({"epoch": 2}, path, keep_previous=True)
    save_checkpoint({"epoch": 3}, path, keep_previous=True)
    assert previous_path(path) == tmp_path / "last.prev.pt"
    assert load_checkpoint(path)["epoch"] == 3
    assert load_checkpoint(tmp_path / "last.prev.pt")["epoch"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.prev.pt", "last.pt"]


def test_keep_previous_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(*args, **kwargs):
        raise OSError("hard links not supported")

    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "last.pt"
    save_checkpoint({"epoch": 1}, path, keep_previous=True)
    save_checkpoint({"epoch": 2}, path, keep_previous=True)
    assert load_checkpoint(path)["epoch"] == 2
    assert load_checkpoint(tmp_path / "last.prev.pt")["epoch"] == 1
    assert _leftover_temp_files(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_written_files_use_umask_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        paths = [save_checkpoint({"epoch": 1}, tmp_path / "last.pt"),
                 export_safetensors(_tiny_model().state_dict(), tmp_path / "best.safetensors")]
    finally:
        os.umask(umask)
    assert [p.stat().st_mode & 0o777 for p in paths] == [0o644, 0o644]


def test_crash_mid_write_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "last.pt"
    save_checkpoint({"epoch": 1}, path, keep_previous=True)
    save_checkpoint({"epoch": 2}, path, keep_previous=True)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def crashing_save(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 partial archive data")  # part of a zip, like a write cut short
        f.flush()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", crashing_save)
    with pytest.raises(CheckpointError, match="No space left") as excinfo:
        save_checkpoint({"epoch": 3}, path, keep_previous=True)
    assert str(path) in str(excinfo.value)
    monkeypatch.undo()

    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # old and prev untouched, no temp file
    assert load_checkpoint(path)["epoch"] == 2


def test_keyboard_interrupt_mid_write_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_checkpoint({"epoch": 1}, tmp_path / "last.pt")

    def interrupted_save(obj, f, *args, **kwargs):
        f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint({"epoch": 2}, path)
    monkeypatch.undo()
    assert _leftover_temp_files(tmp_path) == []
    assert load_checkpoint(path)["epoch"] == 1


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_truncated_checkpoint_raises_checkpoint_error(tmp_path: Path) -> None:
    path = save_checkpoint(_training_state(), tmp_path / "last.pt")
    _truncate(path)
    with pytest.raises(CheckpointError, match="truncated") as excinfo:
        load_checkpoint(path)
    assert str(path) in str(excinfo.value) and "\n" not in str(excinfo.value)


# Fixed bytes (not os.urandom): pytest-xdist workers must collect identical parameters.
@pytest.mark.parametrize(
    "content",
    [b"", random.Random(0).randbytes(4096), b"just some text\n" * 10],
    ids=["empty", "random-bytes", "text"],
)
def test_garbage_file_raises_checkpoint_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "garbage.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as excinfo:
        load_checkpoint(path)
    assert str(path) in str(excinfo.value) and "\n" not in str(excinfo.value)


def test_missing_file_raises_checkpoint_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nope.pt")


@pytest.mark.parametrize("content", [{"model": {}}, [1, 2]], ids=["state-dict", "list"])
def test_another_torch_file_is_not_a_training_checkpoint(tmp_path: Path, content) -> None:
    path = tmp_path / "weights.pt"
    torch.save(content, path)
    with pytest.raises(CheckpointError, match=f"not a resattn training checkpoint \\(no '{FORMAT_KEY}' key\\)"):
        load_checkpoint(path)


def test_pickled_code_is_refused_not_run(tmp_path: Path) -> None:
    path, trap = tmp_path / "evil.pt", tmp_path / "ran"
    torch.save({FORMAT_KEY: 1, "model": {}, "payload": _Trap(trap)}, path)
    with pytest.raises(CheckpointError, match="weights_only") as excinfo:
        load_checkpoint(path)
    assert str(path) in str(excinfo.value) and "(io.open)" in str(excinfo.value)  # names what it refused
    assert not trap.exists()


def test_newer_format_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.pt"
    torch.save({FORMAT_KEY: ckpt.FORMAT_VERSION + 1}, path)
    with pytest.raises(CheckpointError, match="version"):
        load_checkpoint(path)


# ---------------------------------------------------------------------------------------------------------------
# --resume auto
# ---------------------------------------------------------------------------------------------------------------


def test_resume_picks_last(tmp_path: Path) -> None:
    save_checkpoint({"epoch": 1}, tmp_path / "last.pt", keep_previous=True)
    save_checkpoint({"epoch": 2}, tmp_path / "last.pt", keep_previous=True)
    save_checkpoint({"epoch": 0, "best": True}, tmp_path / "best.pt")
    found = load_resume_checkpoint(tmp_path)
    assert found is not None
    assert found[0] == tmp_path / "last.pt" and found[1]["epoch"] == 2


def test_resume_falls_back_to_prev_when_last_truncated(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "last.pt"
    save_checkpoint({"epoch": 1}, path, keep_previous=True)
    save_checkpoint({"epoch": 2}, path, keep_previous=True)
    _truncate(path)
    with caplog.at_level(logging.WARNING, logger=ckpt.__name__):
        found = load_resume_checkpoint(tmp_path)
    assert found is not None
    assert found[0] == tmp_path / "last.prev.pt" and found[1]["epoch"] == 1
    assert any(str(path) in record.getMessage() for record in caplog.records)


def test_resume_uses_prev_when_last_is_missing(tmp_path: Path) -> None:
    # The state after a crash between rotation-by-rename and the final replace.
    save_checkpoint({"epoch": 5}, tmp_path / "last.prev.pt")
    found = load_resume_checkpoint(tmp_path)
    assert found is not None and found[0] == tmp_path / "last.prev.pt"


def test_resume_nothing_to_resume(tmp_path: Path) -> None:
    assert load_resume_checkpoint(tmp_path / "not-created-yet") is None
    save_checkpoint({"epoch": 1}, tmp_path / "best.pt")  # best alone is not a resume point
    assert load_resume_checkpoint(tmp_path) is None


def test_resume_all_candidates_broken(tmp_path: Path) -> None:
    (tmp_path / "last.pt").write_bytes(b"garbage")
    (tmp_path / "last.prev.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="no loadable checkpoint to resume") as excinfo:
        load_resume_checkpoint(tmp_path)
    assert "last.pt" in str(excinfo.value) and "last.prev.pt" in str(excinfo.value)


# ---------------------------------------------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------------------------------------------


def test_safetensors_round_trip(tmp_path: Path) -> None:
    sd = _tiny_model().state_dict()
    path = export_safetensors(sd, tmp_path / "model.safetensors", metadata={"arch": "tiny", "num_classes": "2"})
    weights, metadata = load_safetensors(path)
    _assert_same(dict(sd), weights)
    assert metadata == {"arch": "tiny", "num_classes": "2"}
    with safe_open(str(path), framework="pt") as f:  # a plain safetensors file: any reader takes it
        assert f.metadata() == metadata
    assert _leftover_temp_files(tmp_path) == []


def test_safetensors_shared_and_non_contiguous_tensors(tmp_path: Path) -> None:
    base = torch.arange(12.0).reshape(3, 4)
    sd = {
        "embed.weight": base,
        "head.weight": base,  # tied weights
        "transposed": base.t(),  # non-contiguous view
        "row": base[1],  # partial view of a larger storage
        "empty": torch.empty(0),
        "param": torch.nn.Parameter(torch.ones(2)),
    }
    weights, _ = load_safetensors(export_safetensors(sd, tmp_path / "w.safetensors"))
    for key, value in sd.items():
        assert torch.equal(weights[key], value.detach()), key
    assert base.data_ptr() == sd["embed.weight"].data_ptr()  # the caller's tensors are untouched


def test_export_failure_is_a_checkpoint_error_and_keeps_the_old_file(tmp_path: Path) -> None:
    path = export_safetensors({"a": torch.ones(1)}, tmp_path / "a.safetensors")
    with pytest.raises(CheckpointError, match="a.safetensors"):
        export_safetensors({"a": torch.zeros(1)}, path, metadata={"n": 1})  # type: ignore[dict-item]
    assert torch.equal(load_safetensors(path)[0]["a"], torch.ones(1))
    assert _leftover_temp_files(tmp_path) == []


def test_checkpoint_weights(tmp_path: Path) -> None:
    state = _training_state()
    path = save_checkpoint(state, tmp_path / "last.pt")
    loaded = load_checkpoint(path)
    _assert_same(dict(state["model"]), checkpoint_weights(loaded, "model", path))
    _assert_same(dict(state["ema"]), checkpoint_weights(loaded, "ema", path))
    with pytest.raises(CheckpointError, match="holds no 'ema' weights") as excinfo:
        checkpoint_weights({"model": state["model"], "ema": None}, "ema", path)
    assert str(path) in str(excinfo.value)


def test_weights_of_a_wrapped_model_lose_the_wrapper_prefixes(tmp_path: Path) -> None:
    sd = _tiny_model().state_dict()
    path = export_safetensors({f"module._orig_mod.{k}": v for k, v in sd.items()}, tmp_path / "c.safetensors")
    assert sorted(load_safetensors(path)[0]) == sorted(sd)
    ddp = {f"module.{k}": v for k, v in sd.items()} | {"module.backbone.module.x": torch.zeros(1)}
    assert list(checkpoint_weights({"model": ddp}, "model", "x.pt")) == [*sd, "backbone.module.x"]  # leading only


def test_load_safetensors_errors(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        load_safetensors(tmp_path / "missing.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(CheckpointError, match="bad.safetensors is not a readable safetensors file"):
        load_safetensors(bad)
