"""Benchmarks that report ratios against references measured in the same process (never absolute targets)."""

from .measure import activation_bytes, time_inference, time_training
from .suite import run_suite

__all__ = ["activation_bytes", "run_suite", "time_inference", "time_training"]
