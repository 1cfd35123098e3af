"""The zoo's registration with timm, in one place: a pretrained cfg per architecture, the released weights' tagged
cfgs, and one ``@register_model`` factory per entry of ``NET_SPECS``.

    timm.create_model("attention56")                                 # untrained, ImageNet shape
    timm.create_model("attention56_cifar.fmnist", pretrained=True)   # released weights (models/released.py)
"""

from __future__ import annotations

from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from timm.models import build_model_with_cfg, generate_default_cfgs, register_model

from .released import annotate, pretrained_cfgs, warn_if_masks_flat
from .residual_attention import ResidualAttentionNet
from .specs import NET_SPECS

__all__: list[str] = []  # @register_model adds each factory's name

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)

# Arguments that only mean something for a network with Attention Modules.
_ATTENTION_ARGS = ("attention_residual", "mask_act", "mask_type", "p", "t", "r", "lowest_units", "align_corners")


def _cfg(**kwargs) -> dict:
    cfg = dict(
        url="", num_classes=1000, input_size=(3, 224, 224), pool_size=(7, 7), crop_pct=0.875,
        interpolation="bilinear", mean=IMAGENET_DEFAULT_MEAN, std=IMAGENET_DEFAULT_STD,
        first_conv="stem.conv", classifier="head.fc", license="apache-2.0",
    )
    return {**cfg, **kwargs}


def _cifar_cfg(**kwargs) -> dict:
    return _cfg(num_classes=10, input_size=(3, 32, 32), pool_size=(8, 8), crop_pct=1.0, mean=CIFAR10_MEAN,
                std=CIFAR10_STD, **kwargs)


# The cfg of each architecture's untagged name: no weights, the shape of the paper's dataset.
_UNTAGGED_CFGS = {
    "attention56": _cfg(),
    "attention92": _cfg(test_input_size=(3, 320, 320), test_crop_pct=1.0),  # paper Table 7: tested at 320
    "attention128": _cfg(),
    "attention164": _cfg(),
    "attention236": _cfg(),
    "attention452": _cfg(),
    "attentionnext56": _cfg(),
    "attentionnext92": _cfg(),
    **{f"attention{d}_cifar": _cifar_cfg() for d in (56, 92, 128, 164, 236, 452)},
    "preact_resnet164_cifar": _cifar_cfg(),
}

# The untagged cfgs stay the defaults, so `create_model("attention56_cifar")` keeps its CIFAR shape and a release is
# asked for by its tag. timm makes an architecture's first cfg with weights its default unless a key ending in "*"
# marks another one; that mark holds against the cfgs listed before it, hence the releases first.
default_cfgs = generate_default_cfgs({
    **pretrained_cfgs(lambda **kw: _cfg(pool_size=(7, 7), crop_pct=1.0, **kw)),
    **{f"{name}.*": cfg for name, cfg in _UNTAGGED_CFGS.items()},
})


def _create(variant: str, pretrained: bool = False, **kwargs) -> ResidualAttentionNet:
    num_features = len(NET_SPECS[variant].stages) + 1
    model = build_model_with_cfg(
        ResidualAttentionNet, variant, pretrained, spec=NET_SPECS[variant],
        feature_cfg=dict(feature_cls="getter", out_indices=tuple(range(num_features))), **kwargs,
    )
    annotate(model)
    if pretrained:
        warn_if_masks_flat(model)
    return model


@register_model
def attention56(pretrained: bool = False, **kwargs) -> ResidualAttentionNet:
    """Attention-56 (paper Table 2): modules (1, 1, 1), 31.81 M params, 6.27 GMACs at 224."""
    return _create("attention56", pretrained, **kwargs)


@register_model
def attention92(pretrained: bool = False, **kwargs) -> ResidualAttentionNet:
    """Attention-92 (paper Table 2): modules (1, 2, 3), 52.47 M params, 10.53 GMACs at 224."""
    return _create("attention92", pretrained, **kwargs)


@register_model
def attention128(pretrained: bool = False, **kwargs) -> ResidualAttentionNet:
    """Attention-128 at ImageNet scale (not in the paper): modules (3, 3, 3)."""
    return _create("attention128", pretrained, **kwargs)


@register_model
def attention164(pretrained: bool = False, **kwargs) -> ResidualAttentionNet:
    """Attention-164 at ImageNet scale (not in the paper): modules (4, 4, 4)."""
    return _create("attention164", pretrained, **kwargs)


@register_model
def attention236(pretrained: bool = False, **kwargs) -> ResidualAttentionNet:
    """Attention-236 at ImageNet scale (not in the paper): modules (6, 6, 6)."""
    return _create("attention236", pretrained, **kwargs)


@register_model
def attention452(pretrained: bool = False, **kwargs) -> ResidualAttentionNet:
    """Attention-452 at ImageNet scale (not in the paper): {p=2, t=4, r=3}, modules (6, 6, 6)."""
    return _create("attention452", pretrained, **kwargs)


@register_model
def attentionnext56(pretrained: bool = False, **kwargs) -> ResidualAttentionNet:
    """AttentionNeXt-56 (official prototxt): ResNeXt 32x4d post-activation units, modules (1, 1, 1)."""
    return _create("attentionnext56", pretrained, **kwargs)


@register_model
def attentionnext92(pretrained: bool = False, **kwargs) -> ResidualAttentionNet:
    """AttentionNeXt-92 (official prototxt): ResNeXt 32x4d post-activation units, modules (1, 2, 3)."""
    return _create("attentionnext92", pretrained, **kwargs)


@register_model
def attention56_cifar(pretrained: bool = False, **kwargs) -> ResidualAttentionNet:
    """CIFAR Attention-56 (paper section 4.1, m = 1)."""
    return _create("attention56_cifar", pretrained, **kwargs)


@register_model
def attention92_cifar(pretrained: bool = False, **kwargs) -> ResidualAttentionNet:
    """CIFAR Attention-92 (paper Table 6: 1.9 M params, m = 2)."""
    return _create("attention92_cifar", pretrained, **kwargs)


@register_model
def attention128_cifar(pretrained: bool = False, **kwargs) -> ResidualAttentionNet:
    """CIFAR Attention-128 (paper Table 3, m = 3)."""
    return _create("attention128_cifar", pretrained, **kwargs)


@register_model
def attention164_cifar(pretrained: bool = False, **kwargs) -> ResidualAttentionNet:
    """CIFAR Attention-164 (paper Table 3 and Fig. 4, m = 4)."""
    return _create("attention164_cifar", pretrained, **kwargs)


@register_model
def attention236_cifar(pretrained: bool = False, **kwargs) -> ResidualAttentionNet:
    """CIFAR Attention-236 (paper Table 6: 5.1 M params, m = 6)."""
    return _create("attention236_cifar", pretrained, **kwargs)


@register_model
def attention452_cifar(pretrained: bool = False, **kwargs) -> ResidualAttentionNet:
    """CIFAR Attention-452 (paper Table 6: 8.6 M params; {p=2, t=4, r=3}, m = 6)."""
    return _create("attention452_cifar", pretrained, **kwargs)


@register_model
def preact_resnet164_cifar(pretrained: bool = False, **kwargs) -> ResidualAttentionNet:
    """Pre-activation ResNet-164 (paper Table 6: 1.7 M params), the baseline of paper Tables 5 and 6."""
    unused = sorted(k for k in kwargs if k in _ATTENTION_ARGS)
    if unused:
        raise ValueError(f"preact_resnet164_cifar has no Attention Modules; it does not take {', '.join(unused)}")
    return _create("preact_resnet164_cifar", pretrained, **kwargs)
