"""Grad-CAM for resattn models through the optional ``grad-cam`` package (``pip install resattn[gradcam]``).

The soft masks show where each Attention Module looks; Grad-CAM shows which final features drive one class score.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn


def default_target_layers(model: nn.Module) -> list[nn.Module]:
    """The last unit of the last stage: the final feature map before pooling, the usual choice for ResNets.

    (In a pre-activation net the final BN-ReLU comes after it; Grad-CAM's ReLU over the weighted map covers that.)
    """
    return [model.stages[-1].blocks[-1]]


def _resolve(model: nn.Module, layers: Sequence[nn.Module | str] | None) -> list[nn.Module]:
    if layers is None:
        return default_target_layers(model)
    names = dict(model.named_modules())
    resolved = []
    for layer in layers:
        if isinstance(layer, str):
            if layer not in names:
                raise ValueError(f"Unknown target layer {layer!r}; e.g. stages.{len(model.stages) - 1}")
            layer = names[layer]
        resolved.append(layer)
    return resolved


def gradcam(
    model: nn.Module,
    images: torch.Tensor,
    targets: Sequence[int] | None = None,
    target_layers: Sequence[nn.Module | str] | None = None,
) -> np.ndarray:
    """Grad-CAM heat maps ``(N, H, W)`` in ``[0, 1]`` at the input resolution.

    Args:
        model: a resattn model (put in eval mode here).
        images: normalised inputs ``(N, C, H, W)``.
        targets: class index per image; None explains each image's top-1 prediction.
        target_layers: modules or their names; default ``default_target_layers(model)``.
    """
    try:
        from pytorch_grad_cam import GradCAM
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    except ImportError as err:
        raise ImportError("Grad-CAM needs the optional grad-cam package: pip install 'resattn[gradcam]'") from err
    model.eval()
    if targets is not None and len(targets) != images.shape[0]:
        raise ValueError(f"{len(targets)} targets for {images.shape[0]} images")
    wanted = None if targets is None else [ClassifierOutputTarget(int(t)) for t in targets]
    with GradCAM(model=model, target_layers=_resolve(model, target_layers)) as cam:
        return cam(input_tensor=images, targets=wanted)
