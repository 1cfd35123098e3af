"""``StopVote``: every rank stops at the same step, whichever rank a SIGTERM or SIGINT reached.

A signal handler only sets a flag on the rank it reached. If that rank acted on the flag alone, it would enter the
checkpoint's collectives while the other ranks entered the next step's gradient all-reduce, and every rank would wait
for ever. So each step every rank contributes its flag to an all-reduce (max), and every rank reads the result of the
same step: the same decision, at the same step, on every rank.

The result of step ``s`` is read at step ``s + lag``. On a GPU the flag is copied to host memory without blocking
right after its all-reduce, and by the time it is read (``lag`` steps later) the copy has long finished: the host
never waits for the device, which would stall the queue of kernels every step. On the CPU there is nothing to wait
for; the same lag keeps one code path. A single process has no one to agree with and decides at once.
"""

from __future__ import annotations

import signal
from collections import deque

import torch

from . import collectives

__all__ = ["StopVote", "ignore_stop_signals", "shut_down_workers"]


class StopVote:
    """Agree across ranks on when to stop.

    Call :meth:`request` from a signal handler, and :meth:`poll` once per step on every rank (it is a collective).

    Args:
        distributed: whether several ranks must agree (False: :meth:`poll` returns the local request at once).
        lag: steps between a vote and its reading, at least 1.
    """

    def __init__(self, distributed: bool, lag: int = 2) -> None:
        if lag < 1:
            raise ValueError(f"lag must be at least 1, got {lag}")
        self.distributed, self.lag = distributed, lag
        self.requested = False  # this rank's own flag, set by a signal handler
        self._votes: deque[tuple[torch.Tensor, torch.cuda.Event | None]] = deque()

    def request(self) -> None:
        """Ask to stop (safe in a signal handler: sets a flag, nothing else)."""
        self.requested = True

    def poll(self) -> bool:
        """True on every rank at the same step, ``lag`` steps after the first vote in which any rank asked."""
        if not self.distributed:
            return self.requested
        # Made on the communication device, not copied there: a copy from the host would wait for the device.
        flag = torch.full((1,), float(self.requested), device=collectives.comm_device())
        vote = collectives.all_reduce_max(flag)
        host = vote.to("cpu", non_blocking=True)  # into pinned memory on a GPU: the host does not wait here
        ready = None
        if vote.is_cuda:
            ready = torch.cuda.Event()
            ready.record()
        self._votes.append((host, ready))
        if len(self._votes) <= self.lag:
            return False
        host, ready = self._votes.popleft()
        if ready is not None:
            ready.synchronize()
        return bool(host.item())


def ignore_stop_signals(worker_id: int) -> None:
    """Loader workers leave SIGINT / SIGTERM to the main process (a DataLoader ``worker_init_fn``).

    Ctrl-C, `timeout` and batch schedulers signal the whole process group; a worker that died of it would make the
    main process fail at its next batch instead of finishing the step, saving a checkpoint and stopping.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def shut_down_workers(loader) -> None:
    """Stop a DataLoader's persistent workers, which :func:`ignore_stop_signals` made deaf to SIGTERM.

    Without this, multiprocessing's exit handler sends them SIGTERM and joins them, and waits forever. PyTorch has no
    public way to close a loader (pytorch/pytorch#64766, #71383), so this reaches for the iterator's own shutdown;
    a loader without live workers is left as it is.
    """
    shutdown = getattr(getattr(loader, "_iterator", None), "_shutdown_workers", None)
    if shutdown is not None:
        shutdown()
