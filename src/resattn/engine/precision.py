"""``--amp auto``: the autocast precision a run takes on its device.

bf16 autocast pays off only where the hardware computes in bf16. A CPU without bf16 instructions (AVX512-BF16 or
AMX on x86, the BF16 extension on Arm) converts every operand and falls back to slow kernels: on 2 AVX2 cores of an
AMD EPYC a training step of ``attention56_cifar`` at batch 128 took about 15 s in bf16 against 1.2 s in fp32
(docs/training.md#precision). So ``auto`` is bf16 where it is native and fp32 elsewhere, and an explicit ``bf16``
on such a CPU is kept, with a warning.
"""

from __future__ import annotations

import torch

__all__ = ["AMP_CHOICES", "has_native_bf16", "resolve_amp", "slow_bf16_warning"]

AMP_CHOICES = ["auto", "none", "bf16", "fp16"]


def has_native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes in bf16 natively (a CUDA GPU from Ampere on; a CPU with bf16 instructions)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type != "cpu":
        return False
    caps = torch.cpu.get_capabilities()
    return any(caps.get(name, False) for name in ("avx512_bf16", "amx_bf16", "bf16"))


def resolve_amp(amp: str, device: torch.device) -> str:
    """``amp`` itself, except ``auto``: ``bf16`` where ``device`` has native bf16, else ``none`` (fp32)."""
    if amp != "auto":
        return amp
    return "bf16" if has_native_bf16(device) else "none"


def slow_bf16_warning(amp: str, device: torch.device) -> str | None:
    """A warning for bf16 autocast on a CPU that emulates it, else None."""
    if amp != "bf16" or device.type != "cpu" or has_native_bf16(device):
        return None
    return ("warning: --amp bf16 on a CPU without bf16 instructions (AVX512-BF16, AMX) is emulated and can be ten "
            "times slower than fp32; --amp auto chooses fp32 here (docs/training.md#precision)")
