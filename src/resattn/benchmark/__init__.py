"""Benchmarks that report ratios against references measured in the same process (never absolute targets)."""

from .measure import (
    GraphedForward,
    activation_bytes,
    interleaved_inference,
    interleaved_training,
    peak_training_bytes,
    time_training,
)
from .suite import run_suite

__all__ = ["GraphedForward", "activation_bytes", "interleaved_inference", "interleaved_training",
           "peak_training_bytes", "run_suite", "time_training"]
