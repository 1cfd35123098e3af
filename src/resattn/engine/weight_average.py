"""Stochastic weight averaging (Izmailov et al., 2018): the mean of the weights at the end of each of a run's last
epochs, with BatchNorm statistics recomputed for the mean.

The mean of the weights is not the mean of the networks: its BatchNorm layers need the statistics of the activations
the averaged weights produce, so :meth:`WeightAverage.recompute_batchnorm` measures them on training images before
the average is evaluated or saved. Averaged running statistics would not match them (the likely cause of an EMA of a
high-learning-rate run sitting at chance, docs/training.md).

The number of weights averaged is a function of the step (one snapshot every ``interval`` steps after ``start``), so
a checkpoint holds the average alone and a resumed run goes on averaging where it stopped.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from .collectives import broadcast_module
from .loop import autocast

__all__ = ["WeightAverage", "holds_shipped_weights"]


class WeightAverage:
    """The running mean of ``model``'s parameters at steps ``start + interval``, ``start + 2 interval``, ...

    Has the interface the training loop and checkpoints use for an EMA: ``module`` and ``update(model, step)``.
    """

    def __init__(self, model: nn.Module, start: int, interval: int) -> None:
        if start < 0 or interval < 1:
            raise ValueError(f"weight averaging needs start >= 0 and interval >= 1, got {start} and {interval}")
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        self.start, self.interval = start, interval

    def count(self, step: int) -> int:
        """How many snapshots the average holds after ``step`` completed steps."""
        return max(0, (step - self.start) // self.interval)

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        """Called after each optimizer step; ``step`` counts the steps before it (the training loop's convention)."""
        done = step + 1
        if done <= self.start or (done - self.start) % self.interval:
            return
        n = self.count(done)  # this snapshot included
        for mean, param in zip(self.module.parameters(), model.parameters(), strict=True):
            if n == 1:
                mean.copy_(param)
            else:
                mean.add_(param.detach() - mean, alpha=1.0 / n)

    @torch.no_grad()
    def recompute_batchnorm(self, dataset: Dataset, batch_size: int, device: torch.device,
                            amp_dtype: torch.dtype | None, channels_last: bool, seed: int) -> None:
        """Replace every BatchNorm's running statistics by the mean and variance of its input over one pass of
        ``dataset`` (in a seeded order, with its own augmentation draws), in training mode.

        The global random state is restored afterwards, so a resumed run stays exact; every process computes the
        same statistics and rank 0's are broadcast, so the ranks hold identical weights.
        """
        norms = [m for m in self.module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if not norms:
            return
        momenta = [bn.momentum for bn in norms]
        for bn in norms:
            bn.reset_running_stats()
            bn.momentum = None  # cumulative mean over the batches
        devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            loader = DataLoader(dataset, batch_size=batch_size, shuffle=True,
                                generator=torch.Generator().manual_seed(seed))
            self.module.train()
            for images, _ in loader:
                images = images.to(device, non_blocking=True)
                if channels_last:
                    images = images.contiguous(memory_format=torch.channels_last)
                with autocast(device, amp_dtype):
                    self.module(images)
        self.module.eval()
        for bn, momentum in zip(norms, momenta, strict=True):
            bn.momentum = momentum
        broadcast_module(self.module)


def holds_shipped_weights(ema, step: int) -> bool:
    """Whether ``ema`` (timm's EMA, a :class:`WeightAverage` or None) holds the weights a run ships after ``step``
    steps: an EMA always, an average once it has a snapshot; otherwise the run ships its own weights."""
    if isinstance(ema, WeightAverage):
        return ema.count(step) > 0
    return ema is not None
