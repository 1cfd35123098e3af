"""--amp auto: bf16 only where the device computes in bf16; a run records the precision it took."""

import pytest
import torch
import yaml

from resattn.engine import precision
from resattn.engine.config import TrainConfig
from resattn.engine.precision import has_native_bf16, resolve_amp, slow_bf16_warning
from resattn.engine.trainer import Run

CPU = torch.device("cpu")


def cpu_with(monkeypatch, **flags):
    """Pretend this CPU has exactly ``flags`` among its capabilities."""
    monkeypatch.setattr(precision.torch.cpu, "get_capabilities", lambda: dict(avx2=True, **flags))


@pytest.mark.parametrize("flags, expected", [({}, "none"), ({"avx512_bf16": True}, "bf16"),
                                             ({"amx_bf16": True}, "bf16"), ({"avx512_bf16": False}, "none"),
                                             ({"bf16": True}, "bf16")])
def test_auto_is_bf16_only_on_a_cpu_with_bf16_instructions(monkeypatch, flags, expected):
    cpu_with(monkeypatch, **flags)
    assert has_native_bf16(CPU) == (expected == "bf16")
    assert resolve_amp("auto", CPU) == expected


@pytest.mark.parametrize("amp", ["none", "bf16", "fp16"])
def test_an_explicit_precision_is_kept(monkeypatch, amp):
    cpu_with(monkeypatch)
    assert resolve_amp(amp, CPU) == amp


def test_explicit_bf16_warns_only_where_it_is_emulated(monkeypatch):
    cpu_with(monkeypatch)
    assert "emulated" in slow_bf16_warning("bf16", CPU)
    assert slow_bf16_warning("none", CPU) is None
    cpu_with(monkeypatch, avx512_bf16=True)
    assert slow_bf16_warning("bf16", CPU) is None


def tiny_run(tmp_path, **kwargs) -> TrainConfig:
    base = dict(model="attention56_cifar", dataset="fake", val_split=8, iters=1, epochs=None, batch_size=4,
                device="cpu", output=str(tmp_path / "run"), progress="log", test=False)
    return TrainConfig().update(dict(base, **kwargs), "test")


@pytest.mark.parametrize("amp, expected, warned", [("auto", "none", False), ("bf16", "bf16", True)])
def test_a_run_on_a_cpu_without_bf16_records_its_precision_and_warns_of_emulation(tmp_path, monkeypatch, capsys,
                                                                                  amp, expected, warned):
    cpu_with(monkeypatch)
    cfg = tiny_run(tmp_path, amp=amp)
    Run(cfg).run()
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["amp"] == expected
    assert ("--amp bf16 on a CPU without bf16 instructions" in capsys.readouterr().out) == warned


def test_auto_is_the_default():
    assert TrainConfig().amp == "auto"
