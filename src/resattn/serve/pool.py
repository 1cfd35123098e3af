"""A bounded pool of inference workers, each with its own copy of the model.

Recording masks hooks the model's modules, so two requests must never run on the same copy at once: each worker
thread owns one replica. Requests beyond the workers wait, up to ``max_waiting`` of them; the next one is refused
at once (503) instead of piling up memory and latency.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from .limits import BadRequest

R = TypeVar("R")  # a replica


class WorkerPool(Generic[R]):
    """Runs ``fn(replica, *args)`` on a free replica in a worker thread; at most ``len(replicas) + max_waiting``
    calls are admitted at a time."""

    def __init__(self, replicas: Sequence[R], max_waiting: int) -> None:
        if not replicas:
            raise ValueError("A worker pool needs at least one replica")
        self.workers = len(replicas)
        self.max_waiting = max_waiting
        self._free: queue.SimpleQueue[R] = queue.SimpleQueue()
        for replica in replicas:
            self._free.put(replica)
        self._admitted = threading.BoundedSemaphore(self.workers + max_waiting)
        # Exactly one thread per replica: a thread that starts a call always finds a replica free.
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="resattn-infer")

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        if not self._admitted.acquire(blocking=False):
            raise BadRequest(503, f"server busy: {self.workers} worker(s) running and {self.max_waiting} request(s) "
                                  "waiting; retry shortly")
        try:
            future = self._executor.submit(self._call, fn, args)
        except RuntimeError:  # shut down
            self._admitted.release()
            raise
        # Released when the work ends, not when the caller stops waiting: a client that hangs up does not free a
        # place while its forward pass still runs.
        future.add_done_callback(lambda _: self._admitted.release())
        return await asyncio.wrap_future(future)

    def _call(self, fn: Callable[..., Any], args: tuple) -> Any:
        replica = self._free.get()
        try:
            return fn(replica, *args)
        finally:
            self._free.put(replica)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
