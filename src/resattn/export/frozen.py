"""``torch.compile`` with inductor's weight freezing, for inference: the fastest CPU mode measured here.

Freezing turns the weights and BN statistics into constants, so inductor folds the BNs that follow convolutions into
their weights, turns the pre-activation BNs into constant scale-shifts fused with their ReLUs, pre-packs the
convolution weights for oneDNN and fuses additions into the convolutions (``mkldnn::_convolution_pointwise``).

``torch.compile(model, options={"freezing": True})`` alone does not freeze anything in PyTorch 2.14: dynamo passes
the parameters to inductor as ordinary graph inputs, and inductor's ``freeze`` only turns the ones listed in the
tracing context's ``params_flat`` into constants, a list dynamo fills only with ``torch._dynamo.config.
prepare_freezing`` set (measured: an empty list without it, every parameter with it; see pytorch/pytorch#126093 for
how inlining nn.Modules changed the freezing path). The graph is traced at the first call, so the flag must be set
then, and at any recompilation: the wrapper sets it around each call.
"""

from __future__ import annotations

import torch
from torch import nn


class FrozenModule(nn.Module):
    """``model`` compiled with inductor's freezing; call it in ``torch.inference_mode()`` or ``torch.no_grad()``.

    The weights are read at the first call: changing them afterwards has no effect on the compiled graph.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.compiled = torch.compile(model.eval(), options={"freezing": True})
        self.eval()

    def train(self, mode: bool = True) -> FrozenModule:
        if mode:  # train-mode BN would update the statistics freezing has turned into constants
            raise RuntimeError("A frozen model is for inference only; compile_frozen() the model after training")
        return super().train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled():
            raise RuntimeError("A frozen model is for inference: call it under torch.inference_mode() or no_grad()")
        if not hasattr(torch._dynamo.config, "prepare_freezing"):  # a PyTorch that no longer needs (or has) it
            return self.compiled(x)
        with torch._dynamo.config.patch(prepare_freezing=True):
            return self.compiled(x)


def compile_frozen(model: nn.Module) -> FrozenModule:
    """``model`` for fast inference with ``torch.compile`` and weight freezing (compiles at the first call)."""
    return FrozenModule(model)
