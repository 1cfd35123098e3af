"""Steady-state training speed of a `resattn train` configuration, measured through the real trainer and loader.

    python scripts/gpu/probe_train_speed.py -c configs/fashion_mnist_release.yaml --iters 300 --output /tmp/probe

Prints one JSON line: steps/s and images/s over the last two thirds of the steps (the first third holds worker
start-up and cuDNN's kernel search). scripts/gpu_benchmark_train_reproduce.sh uses it to size the release run to
the time left.
"""

from __future__ import annotations

import json
import sys
import time

from resattn.cli.train import resolve_train_config
from resattn.engine.trainer import Run


def main(argv: list[str]) -> None:
    cfg = resolve_train_config(argv)
    cfg.test, cfg.eval_interval = False, 10**9  # one evaluation, at the end, outside the timed window
    stamps: list[float] = []
    on_step = Run.on_step

    def timed(self, step, loss, images):
        stamps.append(time.perf_counter())
        return on_step(self, step, loss, images)

    Run.on_step = timed
    Run(cfg).run()
    first = len(stamps) // 3
    steps_per_s = (len(stamps) - 1 - first) / (stamps[-1] - stamps[first])
    print(json.dumps(dict(steps_per_s=round(steps_per_s, 2), images_per_s=round(steps_per_s * cfg.batch_size, 1),
                          batch_size=cfg.batch_size, steps=len(stamps))))


if __name__ == "__main__":
    main(sys.argv[1:])
