"""One rank of a test's multi-process run: ``python rank_worker.py SPEC.json`` (started by ``rank_runner``).

SPEC holds either ``config`` (a TrainConfig dict: the rank trains) or ``call`` ("module:function" of this folder,
called with SPEC: the rank runs that scenario), and optionally ``signal`` ({"rank": r, "step": s}: this rank sends
itself SIGTERM just before the trainer handles step s, as a scheduler signalling one process would), ``strict``
(run under the device-strict group of ``strict_group``) and ``threads`` (intra-op threads, default 1).
What ``train()`` or the scenario returns is written to ``<result_dir>/rank<R>.json``.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
from pathlib import Path

import torch


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    torch.set_num_threads(spec.get("threads", 1))
    rank = int(os.environ.get("RANK", 0))

    from resattn.engine.config import TrainConfig
    from resattn.engine.trainer import Run, train

    if spec.get("strict"):
        import strict_group

        strict_group.install()
    if spec.get("signal") and spec["signal"]["rank"] == rank:
        at_step, original = spec["signal"]["step"], Run.on_step

        def on_step(self, step, loss, images):
            if step == at_step:
                os.kill(os.getpid(), signal.SIGTERM)
            return original(self, step, loss, images)

        Run.on_step = on_step
    if "call" in spec:
        module, function = spec["call"].split(":")
        results = getattr(importlib.import_module(module), function)(spec)
    else:
        results = train(TrainConfig().update(spec["config"], "test"))
    Path(spec["result_dir"], f"rank{rank}.json").write_text(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1])
