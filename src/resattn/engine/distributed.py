"""Process-group set-up for ``torchrun``-launched DistributedDataParallel training: who am I, on which device.

Every helper is a no-op (or the identity) when no process group is initialised, so training code can call them
unconditionally and the same script runs on a laptop CPU, a single GPU, or ``torchrun --nproc_per_node=N``.
The collectives themselves (reductions, broadcasts, barrier) are in :mod:`resattn.engine.collectives`.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

__all__ = [
    "DistInfo",
    "cleanup",
    "get_rank",
    "get_world_size",
    "init_distributed",
    "is_dist_initialized",
]


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits in a (possibly trivial) distributed job.

    Attributes:
        enabled: True if a process group with more than one process was initialised.
        rank: Global rank of this process (0 when not distributed).
        world_size: Number of processes (1 when not distributed).
        local_rank: Rank within this node; selects the CUDA device under ``torchrun``.
        device: The device this process should use.
    """

    enabled: bool
    rank: int
    world_size: int
    local_rank: int
    device: torch.device


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise RuntimeError(f"environment variable {name}={value!r} is not an integer") from exc


def is_dist_initialized() -> bool:
    """Whether ``torch.distributed`` is available and a default process group exists."""
    return dist.is_available() and dist.is_initialized()


def init_distributed(
    device: str | torch.device,
    backend: str | None = None,
    timeout: timedelta | None = None,
) -> DistInfo:
    """Initialise the default process group from ``torchrun``'s environment, if launched with several processes.

    ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` are read from the environment (``MASTER_ADDR``/``MASTER_PORT``
    are consumed by the ``env://`` rendezvous). With ``WORLD_SIZE > 1`` the process group is created with the
    ``nccl`` backend for CUDA devices and ``gloo`` otherwise, and a CUDA process is pinned to
    ``cuda:<LOCAL_RANK>`` (an explicit device index in ``device`` is overridden, since torchrun assigns one
    GPU per local rank). Calling it again when a group already exists returns the existing group's info.

    Args:
        device: Requested device, e.g. ``"cpu"``, ``"cuda"``, ``torch.device("cuda", 0)``.
        backend: Override the backend choice (e.g. ``"gloo"`` for CUDA tensors when NCCL is unavailable).
        timeout: Optional collective timeout passed to ``init_process_group``.

    Returns:
        A :class:`DistInfo`; ``enabled`` is False for single-process runs, whose device is ``device`` unchanged.

    Raises:
        RuntimeError: If the environment asks for several processes but ``torch.distributed`` or the requested
            CUDA device is unavailable, or the environment variables are malformed.
    """
    requested = torch.device(device)
    world_size = _env_int("WORLD_SIZE", 1)
    if world_size <= 1 and not is_dist_initialized():
        return DistInfo(enabled=False, rank=0, world_size=1, local_rank=_env_int("LOCAL_RANK", 0), device=requested)

    if not dist.is_available():
        raise RuntimeError(f"WORLD_SIZE={world_size} but this PyTorch build has no torch.distributed support")
    if "RANK" not in os.environ and not is_dist_initialized():
        raise RuntimeError(f"WORLD_SIZE={world_size} but RANK is not set; launch with torchrun")
    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", 0)

    if requested.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(f"distributed run requested device {requested} but CUDA is not available")
        if local_rank >= torch.cuda.device_count():
            raise RuntimeError(
                f"LOCAL_RANK={local_rank} but only {torch.cuda.device_count()} CUDA device(s) are visible"
            )
        dev = torch.device("cuda", local_rank)
        # Must happen before NCCL is initialised, otherwise every rank creates a context on cuda:0.
        torch.cuda.set_device(dev)
    else:
        dev = requested

    if is_dist_initialized():
        return DistInfo(
            enabled=dist.get_world_size() > 1,
            rank=dist.get_rank(),
            world_size=dist.get_world_size(),
            local_rank=local_rank,
            device=dev,
        )

    chosen_backend = backend or ("nccl" if dev.type == "cuda" else "gloo")
    kwargs: dict[str, Any] = {
        "backend": chosen_backend,
        "init_method": "env://",
        "rank": rank,
        "world_size": world_size,
    }
    if timeout is not None:
        kwargs["timeout"] = timeout
    if chosen_backend == "nccl" and "device_id" in inspect.signature(dist.init_process_group).parameters:
        # Binding the group to the device lets NCCL initialise eagerly and tells barrier() which GPU to use.
        kwargs["device_id"] = dev
    dist.init_process_group(**kwargs)
    return DistInfo(enabled=True, rank=rank, world_size=world_size, local_rank=local_rank, device=dev)


def get_rank() -> int:
    """Global rank of this process, 0 when not distributed."""
    return dist.get_rank() if is_dist_initialized() else 0


def get_world_size() -> int:
    """Number of processes in the default group, 1 when not distributed."""
    return dist.get_world_size() if is_dist_initialized() else 1


def cleanup() -> None:
    """Destroy the default process group if one exists; a no-op otherwise."""
    if is_dist_initialized():
        dist.destroy_process_group()
