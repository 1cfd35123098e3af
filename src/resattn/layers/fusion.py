"""Attention residual learning, H = (1 + M) * T (paper Eq. 3), with a backward of two kernels.

Autograd's own backward of ``torch.addcmul(T, M, T)`` runs five element-wise passes over trunk-sized tensors:
``M * 1`` and ``T * 1`` (the ``value`` factor), ``grad * M``, ``grad * T``, and the sum of the two gradients that
reach ``T`` (as the addend and as a factor). Written out, the gradients are ``dT = grad * (1 + M) = grad + grad * M``
(one ``addcmul``) and ``dM = grad * T`` (one ``mul``). The forward is unchanged: one ``addcmul``.

Used in eager training only; graphs being compiled or exported, and inference, take plain ``addcmul``, which the
compilers fuse themselves. The backward is written with differentiable operations, so double backward still works.
"""

from __future__ import annotations

from typing import Any

import torch


class _AttentionResidual(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, trunk: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(trunk, mask)  # the same two tensors addcmul's own backward keeps
        return torch.addcmul(trunk, mask, trunk)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        trunk, mask = ctx.saved_tensors
        grad_trunk = torch.addcmul(grad, grad, mask) if ctx.needs_input_grad[0] else None  # grad * (1 + M)
        grad_mask = grad * trunk if ctx.needs_input_grad[1] else None
        return grad_trunk, grad_mask


def attention_residual(trunk: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``(1 + mask) * trunk``, computed as ``trunk + mask * trunk`` (the prototxt's PROD then SUM) in one kernel."""
    needs_grad = torch.is_grad_enabled() and (trunk.requires_grad or mask.requires_grad)
    if not needs_grad or torch.compiler.is_compiling() or torch.compiler.is_exporting():
        return torch.addcmul(trunk, mask, trunk)
    return _AttentionResidual.apply(trunk, mask)
