"""Residual Units: the building blocks of every trunk and soft-mask branch.

Two unit families appear in the official release (docs/architecture.md, "Residual units"):

* ``PreActBottleneck``: He et al.'s pre-activation bottleneck, used by Attention-56/92 and the CIFAR family.
* ``ResNeXtBottleneck``: the post-activation ResNeXt unit (cardinality 32) of the AttentionNeXt prototxts.

Both take ``(in_chs, out_chs, stride)`` so the network and the soft-mask branch can build either from one
``UnitFactory``. No convolution has a bias (every Convolution in the prototxt has ``bias_term: false``).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import nn

# Caffe's BN layer keeps a moving average with factor 0.9, i.e. PyTorch momentum 0.1, and eps 1e-5
# (docs/architecture.md, "Residual units"): these are PyTorch's defaults, spelled out so that nobody "fixes" them.
BN_MOMENTUM = 0.1
BN_EPS = 1e-5


def batch_norm(num_features: int) -> nn.BatchNorm2d:
    """BatchNorm with the official Caffe BN layer's momentum and eps."""
    return nn.BatchNorm2d(num_features, eps=BN_EPS, momentum=BN_MOMENTUM)


def conv1x1(in_chs: int, out_chs: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_chs, out_chs, 1, stride=stride, bias=False)


def conv3x3(in_chs: int, out_chs: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_chs, out_chs, 3, stride=stride, padding=1, groups=groups, bias=False)


class UnitFactory(Protocol):
    """Anything that builds a residual unit from ``(in_chs, out_chs, stride)``."""

    def __call__(self, in_chs: int, out_chs: int, stride: int = 1) -> nn.Module: ...


class PreActBottleneck(nn.Module):
    """Pre-activation bottleneck (He et al., "Identity Mappings in Deep Residual Networks"), as in the prototxts.

    ``y = conv3(relu(bn3(conv2(relu(bn2(conv1(a))))))) + shortcut``, ``a = relu(bn1(x))``. The bottleneck width is
    ``out_chs // 4``, the stride sits on the 3x3, and the projection (only when the shape changes) is a 1x1 conv
    applied to the *pre-activated* ``a``, as in the prototxt (``branch2/conv1_1x1`` takes ``.../bn``).
    """

    def __init__(self, in_chs: int, out_chs: int, stride: int = 1) -> None:
        super().__init__()
        mid_chs = out_chs // 4
        self.bn1 = batch_norm(in_chs)
        self.conv1 = conv1x1(in_chs, mid_chs)
        self.bn2 = batch_norm(mid_chs)
        self.conv2 = conv3x3(mid_chs, mid_chs, stride)
        self.bn3 = batch_norm(mid_chs)
        self.conv3 = conv1x1(mid_chs, out_chs)
        self.shortcut = conv1x1(in_chs, out_chs, stride) if (in_chs != out_chs or stride != 1) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = F.relu(self.bn1(x), inplace=True)  # bn1 returns a fresh tensor: in-place is safe, x stays intact
        out = self.conv1(a)
        out = self.conv2(F.relu(self.bn2(out), inplace=True))
        out = self.conv3(F.relu(self.bn3(out), inplace=True))
        shortcut = x if self.shortcut is None else self.shortcut(a)
        return out + shortcut


class ResNeXtBottleneck(nn.Module):
    """Post-activation ResNeXt unit of the AttentionNeXt prototxts (AttentionNeXt-56/92-deploy.prototxt).

    ``conv1x1 -> BN -> ReLU -> grouped conv3x3 (stride) -> BN -> ReLU -> conv1x1 -> BN``, plus identity or
    ``conv1x1 (stride) -> BN`` shortcut, then ``SUM -> ReLU``. Width ``out_chs // 2`` with cardinality 32: the
    "32x4d" template (width 128 / 256 / 512 / 1024 for outputs 256 / 512 / 1024 / 2048).
    """

    cardinality = 32

    def __init__(self, in_chs: int, out_chs: int, stride: int = 1) -> None:
        super().__init__()
        width = out_chs // 2
        groups = min(self.cardinality, width)  # narrow widths (never in the paper) fall back to depth-wise
        self.conv1 = conv1x1(in_chs, width)
        self.bn1 = batch_norm(width)
        self.conv2 = conv3x3(width, width, stride, groups=groups)
        self.bn2 = batch_norm(width)
        self.conv3 = conv1x1(width, out_chs)
        self.bn3 = batch_norm(out_chs)
        self.shortcut = None
        if in_chs != out_chs or stride != 1:
            self.shortcut = nn.Sequential(
                OrderedDict(conv=conv1x1(in_chs, out_chs, stride), bn=batch_norm(out_chs))
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = F.relu(self.bn2(self.conv2(out)), inplace=True)
        out = self.bn3(self.conv3(out))
        shortcut = x if self.shortcut is None else self.shortcut(x)
        return F.relu(out + shortcut, inplace=True)


UNIT_TYPES: dict[str, type[nn.Module]] = {"preact": PreActBottleneck, "resnext": ResNeXtBottleneck}


def stack_units(unit: UnitFactory, chs: int, n: int) -> nn.Sequential:
    """``n`` shape-preserving units of width ``chs`` (an empty Sequential is the identity)."""
    return nn.Sequential(*[unit(chs, chs) for _ in range(n)])
