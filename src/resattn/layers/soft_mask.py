"""Soft-mask branch of the Attention Module (paper sections 3.2 and 3.3, Fig. 2; docs/architecture.md, "The soft
mask branch", operator by operator against the official prototxts).

Shapes in the comments are for stage 1 of Attention-56 at 224x224 input (C = 256, trunk at 56x56, k = 3).
"""

from __future__ import annotations

import difflib

import torch
import torch.nn.functional as F
from torch import nn

from .units import UnitFactory, batch_norm, conv1x1, stack_units

MASK_ACTIVATIONS = ("mixed", "channel", "spatial")
MASK_TYPES = ("encoder_decoder", "local_conv")


def _check_choice(kind: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        close = difflib.get_close_matches(str(value), allowed, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown {kind} {value!r}; allowed: {', '.join(allowed)}.{hint}")


class MaskActivation(nn.Module):
    """The soft-mask output activation, f1 / f2 / f3 of paper Eq. 4-6.

    A named module (``...mask.head.act``) so that hooks can read the mask M itself.

    * ``mixed`` (Eq. 4): element-wise sigmoid.
    * ``channel`` (Eq. 5): L2 normalisation over channels at each position, no sigmoid after it.
    * ``spatial`` (Eq. 6): each channel map is standardised over its own spatial positions (per sample: the
      "feature map from c-th channel"), then a sigmoid. The paper gives no epsilon; we add ``eps`` to the variance
      (and F.normalize's 1e-12 to the norm) so that constant maps do not divide by zero.
    """

    def __init__(self, kind: str = "mixed", eps: float = 1e-5) -> None:
        super().__init__()
        _check_choice("mask_act", kind, MASK_ACTIVATIONS)
        self.kind = kind
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "mixed":
            return torch.sigmoid(x)
        if self.kind == "channel":
            return F.normalize(x, p=2.0, dim=1)
        var, mean = torch.var_mean(x, dim=(2, 3), keepdim=True, correction=0)
        return torch.sigmoid((x - mean) * torch.rsqrt(var + self.eps))

    def extra_repr(self) -> str:
        return self.kind


class MaskHead(nn.Module):
    """The two 1x1 convolutions and the activation that close every soft-mask branch.

    Pre-activation nets: ``BN -> ReLU -> conv1 -> BN -> ReLU -> conv2 -> act`` (prototxt ``mask/linear_1``,
    ``mask/linear_2``, ``mask``). Post-activation (AttentionNeXt): ``conv1 -> BN -> ReLU -> conv2 -> act``. Neither
    conv has a bias and there is no BN after ``conv2``: the official prototxt has neither.
    """

    def __init__(self, chs: int, mask_act: str = "mixed", preact: bool = True) -> None:
        super().__init__()
        self.preact = preact
        self.bn1 = batch_norm(chs) if preact else None
        self.conv1 = conv1x1(chs, chs)
        self.bn2 = batch_norm(chs)
        self.conv2 = conv1x1(chs, chs)
        self.act = MaskActivation(mask_act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.bn1 is not None:
            x = F.relu(self.bn1(x), inplace=True)
        x = F.relu(self.bn2(self.conv1(x)), inplace=True)
        return self.act(self.conv2(x))


def _max_pool(x: torch.Tensor) -> torch.Tensor:
    # Caffe pooling: 3x3, stride 2, pad 0, *ceil* rounding (56 -> 28 -> 14 -> 7). MaxPool2d(3, 2, padding=1), used
    # by the public ports, gives the same sizes on even inputs but windows shifted by one pixel.
    return F.max_pool2d(x, kernel_size=3, stride=2, padding=0, ceil_mode=True)


class EncoderDecoderMask(nn.Module):
    """Bottom-up / top-down soft-mask branch (paper Fig. 2, exactly the official prototxt's topology).

    ``k`` max-poolings with ``r`` units after each of the first ``k - 1``, ``lowest_units`` (``2r`` in the paper)
    at the lowest resolution, one skip unit per non-lowest level merged by a single sum, ``r`` units after each
    merge, and bilinear interpolation (Caffe ``Interp``: align_corners=True) to the *actual* size of the reference
    tensor. Nothing else is added into the mask: the public ports' extra ``+ trunk`` and ``+ pre-pool`` terms are
    not in the prototxt.
    """

    def __init__(
        self,
        unit: UnitFactory,
        chs: int,
        num_pools: int,
        r: int = 1,
        lowest_units: int | None = None,
        mask_act: str = "mixed",
        preact: bool = True,
        align_corners: bool = True,
    ) -> None:
        super().__init__()
        if num_pools < 1:
            raise ValueError(f"An encoder-decoder mask needs at least one pooling, got num_pools={num_pools}")
        self.num_pools = num_pools
        self.align_corners = align_corners
        lowest_units = 2 * r if lowest_units is None else lowest_units
        self.down = nn.ModuleList([stack_units(unit, chs, r) for _ in range(num_pools - 1)])
        self.skips = nn.ModuleList([unit(chs, chs) for _ in range(num_pools - 1)])
        self.bottom = stack_units(unit, chs, lowest_units)
        self.up = nn.ModuleList([stack_units(unit, chs, r) for _ in range(num_pools - 1)])
        self.head = MaskHead(chs, mask_act, preact)

    def _upsample(self, x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        # Caffe Interp: to the reference's actual size, which is not always twice x's (ceil-mode pooling, odd sides)
        return F.interpolate(x, size=ref.shape[-2:], mode="bilinear", align_corners=self.align_corners)

    def _merge(self, level: int, h: torch.Tensor, feat: torch.Tensor) -> torch.Tensor:
        """``up[level](upsample(h) + skips[level](feat))``: one sum of the two inputs, then r units.

        The level is picked by enumeration because TorchScript indexes a ModuleList only with literals (the same
        loop as torchvision's feature pyramid network).
        """
        for i, (skip, up) in enumerate(zip(self.skips, self.up)):
            if i == level:
                h = up(self._upsample(h, feat) + skip(feat))
        return h

    def forward(self, x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        """Mask for input ``x`` (output of the p pre-processing units) at the size of ``ref`` (the trunk output)."""
        feats: list[torch.Tensor] = []
        h = x  # (N, 256, 56, 56): raw residual stream, no BN-ReLU before the first pool (prototxt)
        for down in self.down:
            h = down(_max_pool(h))  # (N, 256, 28, 28), then (N, 256, 14, 14)
            feats.append(h)  # feeds both the next pool and this level's skip unit
        h = self.bottom(_max_pool(h))  # (N, 256, 7, 7): 2r units at the lowest resolution
        for level in range(self.num_pools - 2, -1, -1):
            h = self._merge(level, h, feats[level])  # 7 -> 14, then 14 -> 28
        return self.head(self._upsample(h, ref))  # 28 -> 56, sigmoid (mixed attention)


def local_conv_units(num_pools: int, r: int, lowest_units: int | None = None) -> int:
    """Number of full-resolution units with about the multiply-adds of an encoder-decoder mask's units.

    Level l (1-based) of the encoder-decoder mask runs at 1/4**l of the trunk's pixels with ``2r + 1`` units
    (down, skip, up) above the lowest level and ``lowest_units`` at the lowest. For {p, t, r} = {1, 2, 1} every
    stage rounds to one unit, so Attention-56 has "three Residual Units" in its local-convolution masks (paper
    section 4.1, Table 4).
    """
    lowest_units = 2 * r if lowest_units is None else lowest_units
    equiv = sum((2 * r + 1) / 4**level for level in range(1, num_pools)) + lowest_units / 4**num_pools
    return max(1, round(equiv))


class LocalConvMask(nn.Module):
    """Local-convolution soft mask of paper Table 4: residual units at the trunk's resolution, then the head.

    No down- or up-sampling, so the mask sees only a local neighbourhood ("local attention").
    """

    def __init__(
        self,
        unit: UnitFactory,
        chs: int,
        num_units: int,
        mask_act: str = "mixed",
        preact: bool = True,
    ) -> None:
        super().__init__()
        self.units = stack_units(unit, chs, num_units)
        self.head = MaskHead(chs, mask_act, preact)

    def forward(self, x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        """Mask for ``x``; ``ref`` (the trunk output) has x's resolution by construction and is not read."""
        return self.head(self.units(x))
