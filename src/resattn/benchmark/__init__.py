"""Benchmarks that report ratios against references measured in the same process (never absolute targets)."""

from .measure import activation_bytes, interleaved_inference, time_training
from .suite import run_suite

__all__ = ["activation_bytes", "interleaved_inference", "run_suite", "time_training"]
