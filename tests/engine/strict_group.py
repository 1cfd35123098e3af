"""A process group that takes tensors on one device only, as NCCL takes CUDA tensors only (tests' stand-in).

NCCL has no CPU backend: a CPU tensor handed to it fails with "No backend type associated with device type cpu".
This machine has no GPU, so PyTorch's lazy-tensor device (CPU-backed, but not "cpu") stands in for CUDA:
``install()`` tells ``resattn.engine.collectives`` that the group needs "lazy", and wraps torch.distributed's tensor
collectives so that they refuse a tensor on any other device with NCCL's message, and run the rest on CPU copies
over the real gloo group underneath.

Only the project's own calls are guarded, as only they are under test: DDP's gradient all-reduce (C++) and PyTorch's
object collectives (which pick the group's device themselves, as they do under NCCL) reach gloo directly.
"""

from __future__ import annotations

import functools

import torch
import torch.distributed as dist

DEVICE = "lazy"
# Tensor collectives the project does not use: a call means the stand-in needs extending, not a pass.
UNGUARDED = ("all_gather", "all_gather_into_tensor", "reduce", "reduce_scatter_tensor", "gather", "scatter",
             "all_to_all_single")


def _device_checked(real):
    @functools.wraps(real)
    def collective(tensor: torch.Tensor, *args, **kwargs):
        if tensor.device.type != DEVICE:
            raise RuntimeError(f"No backend type associated with device type {tensor.device.type} (the test group "
                               f"takes {DEVICE} tensors only, as NCCL takes CUDA tensors only)")
        host = tensor.cpu()
        work = real(host, *args, **kwargs)
        tensor.copy_(host)
        return work

    return collective


def _missing(name: str):
    def collective(*args, **kwargs):
        raise NotImplementedError(f"the device-strict test group does not implement {name}")

    return collective


def available() -> bool:
    """Whether this PyTorch has the lazy-tensor device the stand-in uses (a private module, which may go)."""
    try:
        import torch._lazy.ts_backend  # noqa: F401
    except ImportError:
        return False
    return True


def install() -> None:
    """Make this process's default group device-strict (call after importing resattn, before training)."""
    import torch._lazy.ts_backend

    from resattn.engine import collectives

    torch._lazy.ts_backend.init()
    collectives.comm_device = lambda: torch.device(DEVICE)
    dist.broadcast = _device_checked(dist.broadcast)
    dist.all_reduce = _device_checked(dist.all_reduce)
    for name in UNGUARDED:
        setattr(dist, name, _missing(name))
