"""Start the ranks of a distributed test run as processes on this machine, as torchrun would, with a deadline.

A distributed fault often shows as a hang (ranks waiting in different collectives); the deadline turns it into a
failure that shows each rank's output, and the ranks are killed (by PID) instead of stalling the suite.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WORKER = Path(__file__).with_name("rank_worker.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RankResult:
    rank: int
    returncode: int
    output: str
    results: dict[str, Any] | None  # what train() returned on this rank (None if it raised)


def loopback_env(rank: int, world_size: int, port: int) -> dict[str, str]:
    """What torchrun exports for a process, on 127.0.0.1, with one intra-op thread (two cores for all ranks)."""
    return dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size),
                LOCAL_WORLD_SIZE=str(world_size), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
                GLOO_SOCKET_IFNAME="lo", OMP_NUM_THREADS="1")


def run_ranks(world_size: int, spec: dict[str, Any], workdir: Path, timeout: float = 300) -> list[RankResult]:
    """Run ``rank_worker.py`` with ``spec`` on ``world_size`` ranks; returns each rank's outcome.

    Raises:
        AssertionError: if a rank is still running after ``timeout`` seconds (the ranks are then killed).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    spec = dict(spec, result_dir=str(workdir))
    spec_path = workdir / "spec.json"
    spec_path.write_text(json.dumps(spec))
    port = free_port()
    logs = [workdir / f"rank{r}.log" for r in range(world_size)]
    procs = []
    for rank, log in enumerate(logs):
        with log.open("w") as out:  # files, not pipes: a rank blocked on a full pipe would look like a hang
            procs.append(subprocess.Popen([sys.executable, str(WORKER), str(spec_path)], stdout=out,
                                          stderr=subprocess.STDOUT, env=loopback_env(rank, world_size, port)))
    deadline = time.monotonic() + timeout
    try:
        for proc in procs:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        outputs = "\n".join(f"--- rank {r}:\n{log.read_text()[-3000:]}" for r, log in enumerate(logs))
        raise AssertionError(f"the ranks were still running after {timeout:.0f} s (a hang?)\n{outputs}") from None
    results = []
    for rank, (proc, log) in enumerate(zip(procs, logs)):
        result_file = workdir / f"rank{rank}.json"
        results.append(RankResult(rank, proc.returncode, log.read_text(),
                                  json.loads(result_file.read_text()) if result_file.exists() else None))
    return results


def assert_all_succeeded(results: list[RankResult]) -> None:
    failed = [r for r in results if r.returncode != 0]
    assert not failed, "\n".join(f"--- rank {r.rank} exited {r.returncode}:\n{r.output[-3000:]}" for r in failed)
