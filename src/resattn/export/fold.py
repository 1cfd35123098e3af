"""Batch-norm folding for inference export.

A convolution followed *directly* by an eval-mode BatchNorm is one affine map per output channel, so the BN can be
folded into the convolution's weight and bias. Only those pairs are folded here. The pre-activation BNs (``bn1`` of
a :class:`~resattn.layers.units.PreActBottleneck`, the mask head's ``bn1``, the net's final ``norm``) come after a
sum or a pooling and before a ReLU: no convolution precedes them directly, so folding them would change the result
and they stay as they are.
"""

from __future__ import annotations

import copy

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ..layers.soft_mask import MaskHead
from ..layers.units import PreActBottleneck, ResNeXtBottleneck
from ..models.residual_attention import Stem

__all__ = ["FOLDABLE_PAIRS", "fold_batchnorm"]

#: (conv, bn) attribute paths per module type where the module's forward applies ``bn(conv(x))`` with nothing in
#: between. Keyed by exact type: a subclass may change forward and break the pairing.
FOLDABLE_PAIRS: dict[type[nn.Module], tuple[tuple[str, str], ...]] = {
    Stem: (("conv", "bn"),),  # conv1 7x7/2 -> BN -> ReLU (ImageNet stem only; the CIFAR stem has no BN)
    PreActBottleneck: (("conv1", "bn2"), ("conv2", "bn3")),
    ResNeXtBottleneck: (("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3"), ("shortcut.conv", "shortcut.bn")),
    MaskHead: (("conv1", "bn2"),),
}


def _split(path: str) -> tuple[str, str]:
    parent, _, name = path.rpartition(".")
    return parent, name


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """An eval-mode copy of ``model`` with every BatchNorm that directly follows a convolution folded into it.

    The folded BNs become ``nn.Identity`` and their convolutions gain a bias, so the copy computes the same function
    as ``model.eval()`` up to float rounding, with fewer operators. ``model`` itself is left untouched.

    Args:
        model: a resattn network (or any module built from its layers).

    Returns:
        The folded copy, in eval mode. Its state dict no longer matches ``model``'s: use it for export only.
    """
    folded = copy.deepcopy(model).eval()
    for module in folded.modules():
        for conv_path, bn_path in FOLDABLE_PAIRS.get(type(module), ()):
            try:
                conv, bn = module.get_submodule(conv_path), module.get_submodule(bn_path)
            except AttributeError:  # e.g. a ResNeXt unit with an identity shortcut
                continue
            # Without running statistics a BN normalises with batch statistics even in eval mode: not foldable.
            if not (isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d) and bn.track_running_stats):
                continue
            conv_parent, conv_name = _split(conv_path)
            bn_parent, bn_name = _split(bn_path)
            setattr(module.get_submodule(conv_parent), conv_name, fuse_conv_bn_eval(conv, bn))
            setattr(module.get_submodule(bn_parent), bn_name, nn.Identity())
    return folded
