"""The export check compares outputs relative to their scale: an untrained network's large logits pass, a wrong
export fails whatever the scale."""

import pytest
import torch
from torch import nn

from resattn.export.parity import compare_outputs


class Scaled(nn.Module):
    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale
        self.dropout = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x.flatten(1)[:, :10]) * self.scale


def inputs():
    return [torch.randn(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))]


def test_float32_rounding_at_a_large_output_scale_is_small_relative_to_it():
    net = Scaled(1e4)  # logits of order 1e4, as an untrained attention92_cifar's
    parity = compare_outputs(net, lambda x: (x.flatten(1)[:, :10] * 1e4) * (1 + 1e-6), inputs())
    assert parity.max_abs_diff > 1e-3  # an absolute 1e-3 tolerance would refuse this
    assert parity.scale > 1e4 and parity.relative < 1e-5
    assert net.training  # compared in eval mode (no dropout), then restored


def test_a_wrong_export_is_refused_at_any_scale():
    for scale in (1.0, 1e4):
        parity = compare_outputs(Scaled(scale), lambda x, s=scale: x.flatten(1)[:, 1:11] * s, inputs())
        assert parity.relative > 0.1


def test_small_outputs_are_compared_absolutely():
    parity = compare_outputs(Scaled(1e-3), lambda x: x.flatten(1)[:, :10] * 1e-3 + 1e-4, inputs())
    assert parity.scale == 1.0 and parity.relative == pytest.approx(1e-4)


def test_a_different_output_shape_is_an_error():
    with pytest.raises(ValueError, match="output shape"):
        compare_outputs(Scaled(1.0), lambda x: x.flatten(1), inputs())
