"""Iteration-based learning-rate schedules (the paper states its schedules in iterations: sections 4.1 and 4.2).

The rate is a pure function of the iteration, so resuming needs no scheduler state beyond the step counter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SCHEDULES = ("multistep", "cosine", "constant")


@dataclass(frozen=True)
class IterSchedule:
    """``lr(step)`` for step 0 .. total_iters - 1.

    Args:
        base_lr: peak learning rate.
        total_iters: length of the run in iterations.
        kind: "multistep" (divide by 1/gamma at each milestone, paper CIFAR: 64k and 96k of 160k), "cosine" (to 0),
            or "constant".
        milestones: iterations of the multistep drops.
        gamma: multistep factor (0.1 in the paper).
        warmup_iters: linear warm-up from base_lr / warmup_iters (0: none).
    """

    base_lr: float
    total_iters: int
    kind: str = "multistep"
    milestones: tuple[int, ...] = ()
    gamma: float = 0.1
    warmup_iters: int = 0

    def __post_init__(self) -> None:
        if self.kind not in SCHEDULES:
            raise ValueError(f"Unknown sched {self.kind!r}; allowed: {', '.join(SCHEDULES)}")
        if self.total_iters < 1:
            raise ValueError(f"The run must have at least one iteration, got {self.total_iters}")

    def __call__(self, step: int) -> float:
        if step < self.warmup_iters:
            return self.base_lr * (step + 1) / self.warmup_iters
        if self.kind == "multistep":
            return self.base_lr * self.gamma ** sum(step >= m for m in self.milestones)
        if self.kind == "cosine":
            span = max(1, self.total_iters - self.warmup_iters)
            return 0.5 * self.base_lr * (1 + math.cos(math.pi * (step - self.warmup_iters) / span))
        return self.base_lr
