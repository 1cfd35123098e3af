"""Pre-activation ResNet-164 for CIFAR (He et al., "Identity Mappings"), the paper's CIFAR baseline (Table 5, 6).

It is the same network class as the attention nets with no Attention Modules: 3x3 conv (16), then 18 pre-activation
bottleneck units per stage at widths 64 / 128 / 256, BN-ReLU, global average pooling, FC. 1.70 M params.
"""

from __future__ import annotations

from timm.models import build_model_with_cfg, generate_default_cfgs, register_model

from .residual_attention import NET_SPECS, NetSpec, ResidualAttentionNet, StageSpec, _cifar_cfg

NET_SPECS["preact_resnet164_cifar"] = NetSpec(
    "cifar", 16, (StageSpec(64, 1, 18), StageSpec(128, 2, 18), StageSpec(256, 2, 18))
)

# Arguments that only mean something for a network with Attention Modules.
_ATTENTION_ARGS = ("attention_residual", "mask_act", "mask_type", "p", "t", "r", "lowest_units", "align_corners")

default_cfgs = generate_default_cfgs({"preact_resnet164_cifar": _cifar_cfg()})


@register_model
def preact_resnet164_cifar(pretrained: bool = False, **kwargs) -> ResidualAttentionNet:
    """Pre-activation ResNet-164 (paper Table 6: 1.7 M params), the baseline of paper Tables 5 and 6."""
    unused = sorted(k for k in kwargs if k in _ATTENTION_ARGS)
    if unused:
        raise ValueError(f"preact_resnet164_cifar has no Attention Modules; it does not take {', '.join(unused)}")
    return build_model_with_cfg(
        ResidualAttentionNet, "preact_resnet164_cifar", pretrained, spec=NET_SPECS["preact_resnet164_cifar"],
        feature_cfg=dict(feature_cls="getter", out_indices=(0, 1, 2, 3)), **kwargs,
    )
