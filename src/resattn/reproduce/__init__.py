"""``resattn reproduce``: the paper's tables as resumable grids of training runs."""

from .experiments import EXPERIMENTS, Experiment, RunSpec
from .grid import run_experiment

__all__ = ["EXPERIMENTS", "Experiment", "RunSpec", "run_experiment"]
