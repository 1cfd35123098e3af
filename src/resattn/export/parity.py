"""Does an exported network compute what PyTorch computes? Its largest difference, relative to the output's scale.

An absolute tolerance only suits trained networks, whose logits are of order 10. An untrained network's logits
reach 1e3 to 1e4 (batch normalisation still has its initial statistics, so nothing scales the activations of the
residual stacks down), and the rounding differences between two float32 runtimes grow in proportion: exports of
untrained attention92_cifar nets differed from PyTorch by 0.004 to 0.23 at scales of 1e3 to 3e3, relative 4e-6 to
1.1e-4 (five random initialisations). A wrong export (a misplaced resize, a dropped branch) differs by a sizeable
fraction of the scale, whatever the weights.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["Parity", "compare_outputs"]


@dataclass(frozen=True)
class Parity:
    """The largest absolute difference between two runtimes' outputs and the scale it is measured against."""

    max_abs_diff: float
    scale: float  # the largest |output| of the PyTorch model over all inputs, at least 1

    @property
    def relative(self) -> float:
        return self.max_abs_diff / self.scale

    def describe(self) -> str:
        return (f"max abs difference {self.max_abs_diff:.3g} at output scale {self.scale:.3g}, relative "
                f"{self.relative:.3g}")


@torch.no_grad()
def compare_outputs(model: nn.Module, exported: Callable[[torch.Tensor], torch.Tensor],
                    inputs: Sequence[torch.Tensor]) -> Parity:
    """Run ``model`` (in eval mode) and ``exported`` on each input and compare their outputs.

    Raises:
        ValueError: if the two give outputs of different shapes.
    """
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    worst, scale = 0.0, 1.0  # a floor of 1: outputs near zero are compared absolutely
    try:
        for x in inputs:
            expected = model(x.to(device)).float().cpu()
            got = torch.as_tensor(exported(x)).float().cpu()
            if got.shape != expected.shape:
                raise ValueError(f"the exported model's output shape {tuple(got.shape)} differs from PyTorch's "
                                 f"{tuple(expected.shape)} for input {tuple(x.shape)}")
            worst = max(worst, float((got - expected).abs().max()))
            scale = max(scale, float(expected.abs().max()))
    finally:
        model.train(was_training)
    return Parity(worst, scale)
