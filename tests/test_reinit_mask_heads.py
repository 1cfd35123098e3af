"""scripts/reinit_mask_heads.py: only the mask heads' conv1, bn2 and conv2 start afresh, every other tensor is copied,
and weights of another architecture are refused with a message."""

import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from resattn.models import create_model

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "reinit_mask_heads.py"
RESTARTED = ("conv1.weight", "conv2.weight", "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var",
             "bn2.num_batches_tracked")


def _trained_like(model: str, **kwargs) -> dict[str, torch.Tensor]:
    """A state dict whose every tensor differs from any initialisation (running statistics included)."""
    return {k: v + 3 for k, v in create_model(model, **kwargs).state_dict().items()}


def _run(*args: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)


def test_only_the_mask_heads_restart(tmp_path):
    source = _trained_like("attention56_cifar", num_classes=10, in_chans=1)
    save_file(source, tmp_path / "in.safetensors")
    assert _run(tmp_path / "in.safetensors", tmp_path / "out.safetensors").returncode == 0
    out = load_file(tmp_path / "out.safetensors")

    changed = {k for k in source if not torch.equal(source[k], out[k])}
    heads = [f"stages.{s}.blocks.1.mask.head" for s in range(3)]
    assert changed == {f"{h}.{t}" for h in heads for t in RESTARTED}
    for head in heads:
        var, mean = out[f"{head}.bn2.running_var"], out[f"{head}.bn2.running_mean"]
        assert torch.equal(var, torch.ones_like(var)) and torch.equal(mean, torch.zeros_like(mean))  # as untrained
        assert out[f"{head}.conv1.weight"].abs().mean() < 1  # a fresh draw, not the source's (all above 2)


def test_weights_of_another_architecture_are_refused(tmp_path):
    save_file(_trained_like("attention92_cifar", num_classes=10, in_chans=1), tmp_path / "in.safetensors")
    result = _run(tmp_path / "in.safetensors", tmp_path / "out.safetensors")
    assert result.returncode != 0
    assert "not the weights of attention56_cifar" in result.stderr
    assert not (tmp_path / "out.safetensors").exists()


def test_a_file_that_is_not_safetensors_is_refused(tmp_path):
    (tmp_path / "in.safetensors").write_text("not weights")
    result = _run(tmp_path / "in.safetensors", tmp_path / "out.safetensors")
    assert result.returncode != 0
    assert "is not a readable .safetensors file" in result.stderr and "Traceback" not in result.stderr
