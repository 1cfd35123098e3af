"""The Attention Module: trunk branch, soft-mask branch and their fusion (paper section 3, Fig. 2)."""

from __future__ import annotations

import torch
from torch import nn

from .soft_mask import MASK_TYPES, EncoderDecoderMask, LocalConvMask, _check_choice, local_conv_units
from .units import UnitFactory, stack_units


class AttentionModule(nn.Module):
    """One Attention Module with hyper-parameters p, t, r (paper section 3, Fig. 2 and its caption).

    ::

        x = pre(x_in)            # p units, shared by both branches
        T = trunk(x)             # t units
        M = mask(x, ref=T)       # soft mask in [0, 1] (mixed), same shape as T
        H = T + M * T            # attention residual learning, (1 + M) * T, Eq. 3 (prototxt: PROD then SUM)
          | M * T                # naive attention learning, Eq. 1
        y = post(H)              # p units; no extra BN or activation on H (the next unit pre-activates)

    Args:
        unit: residual unit factory (pre-activation bottleneck or ResNeXt unit).
        chs: channels of the module (input = output).
        num_pools: max-poolings in the encoder-decoder mask (3 / 2 / 1 for the 56 / 28 / 14 stages at 224).
        p, t, r: pre/post units, trunk units, mask units between poolings.
        attention_residual: True for Eq. 3, False for naive attention learning (Eq. 1).
        mask_act: "mixed" | "channel" | "spatial" (paper Eq. 4 / 5 / 6).
        mask_type: "encoder_decoder" (paper) | "local_conv" (paper Table 4).
        lowest_units: units at the mask's lowest resolution (default 2r, paper Fig. 2).
        preact: whether the units are pre-activation (decides the mask head's first BN-ReLU).
        align_corners: bilinear interpolation corners (True is Caffe's Interp layer).
    """

    def __init__(
        self,
        unit: UnitFactory,
        chs: int,
        num_pools: int,
        p: int = 1,
        t: int = 2,
        r: int = 1,
        attention_residual: bool = True,
        mask_act: str = "mixed",
        mask_type: str = "encoder_decoder",
        lowest_units: int | None = None,
        preact: bool = True,
        align_corners: bool = True,
    ) -> None:
        super().__init__()
        _check_choice("mask_type", mask_type, MASK_TYPES)
        self.attention_residual = attention_residual
        self.pre = stack_units(unit, chs, p)
        self.trunk = stack_units(unit, chs, t)
        self.mask: nn.Module
        if mask_type == "encoder_decoder":
            self.mask = EncoderDecoderMask(unit, chs, num_pools, r, lowest_units, mask_act, preact, align_corners)
        else:
            num_units = local_conv_units(num_pools, r, lowest_units)
            self.mask = LocalConvMask(unit, chs, num_units, mask_act, preact)
        self.post = stack_units(unit, chs, p)

    def fuse(self, trunk: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.attention_residual:
            return trunk + mask * trunk  # Eq. 3, (1 + M) * T, as the prototxt's PROD then SUM
        return mask * trunk  # Eq. 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pre(x)
        trunk = self.trunk(x)
        mask = self.mask(x, trunk)
        return self.post(self.fuse(trunk, mask))
