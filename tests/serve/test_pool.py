"""The bounded worker pool: how many calls run, how many wait, and that a replica is never shared."""

from __future__ import annotations

import asyncio
import threading

import pytest

from resattn.serve.limits import BadRequest
from resattn.serve.pool import WorkerPool


def test_calls_past_workers_and_waiting_places_are_refused_at_once():
    release = threading.Event()
    started = []

    def work(replica: str, i: int) -> str:
        started.append(i)
        release.wait(timeout=30)
        return f"{replica}:{i}"

    async def scenario():
        pool = WorkerPool(["only"], max_waiting=1)
        first = asyncio.ensure_future(pool.run(work, 1))
        second = asyncio.ensure_future(pool.run(work, 2))  # waits for the single worker
        await asyncio.sleep(0.2)
        with pytest.raises(BadRequest) as refused:
            await pool.run(work, 3)
        assert refused.value.status == 503 and "server busy" in refused.value.reason
        assert started == [1]  # the waiting call has not started
        release.set()
        results = await asyncio.gather(first, second)
        assert await pool.run(work, 4) == "only:4"  # places are given back
        pool.shutdown()
        return results

    assert asyncio.run(scenario()) == ["only:1", "only:2"]


def test_each_running_call_holds_its_own_replica():
    in_use: set[str] = set()
    clash = []
    lock = threading.Lock()
    both_running = threading.Barrier(2, timeout=30)

    def work(replica: str) -> str:
        with lock:
            if replica in in_use:
                clash.append(replica)
            in_use.add(replica)
        both_running.wait()  # two calls at once, one per worker
        with lock:
            in_use.discard(replica)
        return replica

    async def scenario():
        pool = WorkerPool(["a", "b"], max_waiting=0)
        try:
            return await asyncio.gather(*(pool.run(work) for _ in range(2)))
        finally:
            pool.shutdown()

    assert sorted(asyncio.run(scenario())) == ["a", "b"] and not clash


def test_an_error_in_a_call_reaches_the_caller_and_frees_the_worker():
    def fail(replica: object) -> None:
        raise BadRequest(422, "not an image")

    async def scenario():
        pool = WorkerPool([object()], max_waiting=0)
        for _ in range(3):  # a leaked place would refuse the second call with 503
            with pytest.raises(BadRequest, match="not an image"):
                await pool.run(fail)
        pool.shutdown()

    asyncio.run(scenario())


def test_pool_needs_a_replica():
    with pytest.raises(ValueError, match="at least one replica"):
        WorkerPool([], max_waiting=1)
