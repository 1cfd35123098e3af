"""Parameter and multiply-add counts. The paper's "FLOPs" are multiply-adds: the official Attention-56 prototxt
has 6.27 G of them at 224x224, which the paper reports as 6.3 GFLOPs (Table 7)."""

from __future__ import annotations

import torch
from torch import nn


def count_params(model: nn.Module) -> int:
    """Learnable parameters (conv / FC weights and biases, BN gamma and beta; not BN running statistics)."""
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def count_macs(model: nn.Module, input_size: tuple[int, int, int], batch_size: int = 1) -> int:
    """Multiply-adds of the convolutions and linear layers of one forward pass per image.

    Args:
        model: the network (its training mode is restored afterwards).
        input_size: (C, H, W) of one image.
        batch_size: images in the measuring pass; the count is divided back to one image.
    """
    total = 0

    def conv_hook(module: nn.Conv2d, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        kh, kw = module.kernel_size
        total += output.numel() * (module.in_channels // module.groups) * kh * kw

    def linear_hook(module: nn.Linear, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        total += output.numel() * module.in_features

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    try:
        model(torch.zeros(batch_size, *input_size))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return total // batch_size
