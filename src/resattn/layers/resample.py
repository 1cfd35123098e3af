"""Bilinear upsampling of the soft-mask branch as one opaque operator for compiled CPU training.

Inductor decomposes ``F.interpolate(mode="bilinear")`` into index arithmetic before autograd sees it, so the
backward becomes generated scatter-add kernels (``_unsafe_index_put`` with accumulation) that dominate a compiled
CPU training step of the attention nets. Wrapped as a custom operator with its own backward operator, the compiled
graph calls PyTorch's ``upsample_bilinear2d`` and ``upsample_bilinear2d_backward`` kernels instead, the ones eager
training uses. Inference, export and eager mode keep ``F.interpolate``: there the decomposition fuses well, and the
exporters need standard operators.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch._prims_common import suggest_memory_format


@torch.library.custom_op("resattn::upsample_bilinear", mutates_args=())
def _upsample_bilinear(x: torch.Tensor, height: int, width: int, align_corners: bool) -> torch.Tensor:
    return torch.ops.aten.upsample_bilinear2d.default(x, [height, width], align_corners)


@_upsample_bilinear.register_fake
def _(x: torch.Tensor, height: int, width: int, align_corners: bool) -> torch.Tensor:
    return torch.empty((x.shape[0], x.shape[1], height, width), dtype=x.dtype, device=x.device,
                       memory_format=suggest_memory_format(x))


@torch.library.custom_op("resattn::upsample_bilinear_backward", mutates_args=())
def _upsample_bilinear_backward(grad: torch.Tensor, input_size: list[int], align_corners: bool) -> torch.Tensor:
    return torch.ops.aten.upsample_bilinear2d_backward.default(grad, list(grad.shape[-2:]), input_size, align_corners)


@_upsample_bilinear_backward.register_fake
def _(grad: torch.Tensor, input_size: list[int], align_corners: bool) -> torch.Tensor:
    return torch.empty(input_size, dtype=grad.dtype, device=grad.device, memory_format=suggest_memory_format(grad))


def _setup_context(ctx: Any, inputs: tuple, output: torch.Tensor) -> None:
    x, _, _, align_corners = inputs
    ctx.input_size, ctx.align_corners = list(x.shape), align_corners


def _backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None, None]:
    return _upsample_bilinear_backward(grad, ctx.input_size, ctx.align_corners), None, None, None


_upsample_bilinear.register_autograd(_backward, setup_context=_setup_context)


def upsample_bilinear(x: torch.Tensor, size: tuple[int, int], align_corners: bool) -> torch.Tensor:
    """``F.interpolate(x, size, mode="bilinear")``; the opaque operator when a CPU training graph is being compiled."""
    compiled_training = (torch.compiler.is_compiling() and not torch.compiler.is_exporting()
                         and torch.is_grad_enabled() and x.requires_grad and x.device.type == "cpu")
    if compiled_training:
        return _upsample_bilinear(x, int(size[0]), int(size[1]), align_corners)
    return F.interpolate(x, size=size, mode="bilinear", align_corners=align_corners)
