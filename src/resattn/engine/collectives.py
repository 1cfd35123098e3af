"""Every collective the trainer makes, with its tensors on the device the process group's backend takes.

NCCL has no CPU implementation: a CPU tensor handed to an NCCL group fails ("No backend type associated with device
type cpu"), while gloo takes CPU tensors. So no function here sends the caller's tensor as it is: it is copied to
:func:`comm_device` (the CPU when the group has a CPU backend, else this process's accelerator), reduced or
broadcast there, and returned on the caller's device. Groups made of ``device:backend`` pairs
(``"cpu:gloo,cuda:nccl"``) have a CPU backend and so communicate on the CPU.

Every function is the identity (or a no-op) when no process group exists, so the trainer calls them unconditionally.
All of them are collectives: every rank must call them, in the same order.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import nn

__all__ = [
    "all_reduce_max",
    "all_reduce_mean",
    "all_reduce_sum",
    "barrier",
    "broadcast_module",
    "broadcast_object",
    "broadcast_tensor",
    "comm_device",
    "gather_objects",
]


def _initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def backend_devices(backend: str) -> set[str]:
    """Device types a backend takes tensors from: ``"nccl"`` -> {"cuda"}; ``"cpu:gloo,cuda:nccl"`` -> both."""
    if ":" in backend:  # device:backend pairs, as given to init_process_group
        return {pair.split(":", 1)[0].strip() for pair in backend.split(",")}
    return set(dist.Backend.backend_capability.get(backend, ["cpu"]))


def comm_device() -> torch.device:
    """The device this process's collective tensors must live on, for the default group's backend.

    Raises:
        RuntimeError: if the backend takes no CPU tensors and this process has no device of a type it takes.
    """
    backend = str(dist.get_backend())
    devices = backend_devices(backend)
    if "cpu" in devices:  # the values live in host memory: no copy to a device and back
        return torch.device("cpu")
    if "cuda" in devices and torch.cuda.is_available():
        # init_distributed pinned this process to cuda:LOCAL_RANK; NCCL expects exactly that device.
        return torch.device("cuda", torch.cuda.current_device())
    raise RuntimeError(f"the process group's backend {backend!r} takes tensors on {sorted(devices)} only, and this "
                       f"process has none of those devices")


def _reduce(tensor: torch.Tensor, op: dist.ReduceOp) -> torch.Tensor:
    result = tensor.detach().to(comm_device(), copy=True)  # a copy: the caller's tensor is never modified
    dist.all_reduce(result, op=op)
    return result.to(tensor.device)


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """The sum of ``tensor`` over all ranks, on ``tensor``'s device; the input is not modified (safe inside an
    autograd graph). Not distributed: the detached input."""
    if not _initialized():
        return tensor.detach()
    return _reduce(tensor, dist.ReduceOp.SUM)


def all_reduce_max(tensor: torch.Tensor) -> torch.Tensor:
    """The element-wise maximum of ``tensor`` over all ranks (e.g. "did any rank ask to stop?")."""
    if not _initialized():
        return tensor.detach()
    return _reduce(tensor, dist.ReduceOp.MAX)


def all_reduce_mean(tensor: torch.Tensor) -> torch.Tensor:
    """The mean of ``tensor`` over all ranks, e.g. a loss for logging.

    Integer and boolean inputs are converted to the default floating dtype first, so the mean is not truncated
    and the result dtype does not depend on whether the run is distributed.
    """
    value = tensor.detach()
    if not (value.is_floating_point() or value.is_complex()):
        value = value.to(torch.get_default_dtype())
    if not _initialized():
        return value
    return _reduce(value, dist.ReduceOp.SUM).div_(dist.get_world_size())


def broadcast_tensor(tensor: torch.Tensor, src: int = 0) -> torch.Tensor:
    """Rank ``src``'s ``tensor`` on every rank (same shape and dtype on all), on the caller's device."""
    if not _initialized():
        return tensor.detach()
    result = tensor.detach().to(comm_device(), copy=True)
    dist.broadcast(result, src=src)
    return result.to(tensor.device)


@torch.no_grad()
def broadcast_module(module: nn.Module, src: int = 0) -> None:
    """Copy rank ``src``'s parameters and buffers into ``module`` on every rank, in place.

    For a model that rank ``src`` alone loaded (e.g. from a file the other ranks may not see: on several machines
    the run folder need not be shared). The architectures must be identical.
    """
    if not _initialized():
        return
    for tensor in [*module.parameters(), *module.buffers()]:
        tensor.copy_(broadcast_tensor(tensor, src))


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """Rank ``src``'s picklable ``obj`` on every rank (``obj`` itself when not distributed)."""
    if not _initialized():
        return obj
    container = [obj if dist.get_rank() == src else None]
    # PyTorch's object collectives put the pickled bytes on the group's device themselves (the current CUDA
    # device under NCCL, which init_distributed has set).
    dist.broadcast_object_list(container, src=src)
    return container[0]


def gather_objects(obj: Any) -> list[Any]:
    """Every rank's picklable ``obj``, in rank order, on every rank (``[obj]`` when not distributed)."""
    if not _initialized():
        return [obj]
    gathered: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, obj)
    return gathered


def barrier() -> None:
    """Wait for all ranks; a no-op when not distributed."""
    if not _initialized():
        return
    if comm_device().type == "cuda":
        # Without device_ids NCCL guesses the device from the rank and warns; the current device is the right one.
        dist.barrier(device_ids=[torch.cuda.current_device()])
    else:
        dist.barrier()
