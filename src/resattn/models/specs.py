"""Every network of the zoo as data: its stem, its stages and its Attention Module hyper-parameters.

``NET_SPECS`` is the zoo, in the order ``resattn list`` prints it; ``models/registry.py`` registers one timm model
per entry. Where each layout comes from is in ``docs/architecture.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NET_SPECS", "NetSpec", "StageSpec", "cifar_spec", "imagenet_spec"]


@dataclass(frozen=True)
class StageSpec:
    """One stage: ``units_before`` residual units (the first projects / downsamples), ``modules`` Attention
    Modules whose masks use ``num_pools`` max-poolings, then ``units_after`` residual units."""

    out_chs: int
    stride: int
    units_before: int
    modules: int = 0
    num_pools: int = 0
    units_after: int = 0


@dataclass(frozen=True)
class NetSpec:
    """A whole network as data. ``stem``: "imagenet" (7x7/2 conv, BN, ReLU, max-pool) or "cifar" (3x3 conv)."""

    stem: str
    stem_chs: int
    stages: tuple[StageSpec, ...]
    unit: str = "preact"
    p: int = 1
    t: int = 2
    r: int = 1
    lowest_units: int | None = None  # None: 2r at the mask's lowest resolution (paper Fig. 2)


def imagenet_spec(modules: tuple[int, int, int], unit: str = "preact", p: int = 1, t: int = 2, r: int = 1) -> NetSpec:
    """Paper Table 2: stages at 56 / 28 / 14 with 3 / 2 / 1 mask poolings (smallest mask map 7x7), then 3 units."""
    m1, m2, m3 = modules
    stages = (
        StageSpec(256, 1, 1, m1, 3),  # pre_res_1 (64 -> 256), AttentionA_*
        StageSpec(512, 2, 1, m2, 2),  # pre_res_2, AttentionB_*
        StageSpec(1024, 2, 1, m3, 1),  # pre_res_3, AttentionC_*
        StageSpec(2048, 2, 3),  # post_res_4_1 .. post_res_4_3
    )
    return NetSpec("imagenet", 64, stages, unit, p, t, r)


def cifar_spec(m: int, p: int = 1, t: int = 2, r: int = 1, lowest_units: int | None = None) -> NetSpec:
    """The CIFAR layout (docs/architecture.md, "CIFAR layout"): 3x3 conv (16), stages 64 / 128 / 256 at
    32 / 16 / 8, one unit before and one after the m modules of each stage (paper section 4.1: "two Residual Units
    at each stage"), mask poolings 3 / 2 / 1. Depth 36m + 20."""
    layout = ((64, 1, 3), (128, 2, 2), (256, 2, 1))  # (width, stride, mask poolings)
    stages = tuple(StageSpec(chs, stride, 1, m, pools, 1) for chs, stride, pools in layout)
    return NetSpec("cifar", 16, stages, "preact", p, t, r, lowest_units)


NET_SPECS: dict[str, NetSpec] = {
    "attention56": imagenet_spec((1, 1, 1)),
    "attention92": imagenet_spec((1, 2, 3)),
    "attention128": imagenet_spec((3, 3, 3)),
    "attention164": imagenet_spec((4, 4, 4)),
    "attention236": imagenet_spec((6, 6, 6)),
    "attention452": imagenet_spec((6, 6, 6), p=2, t=4, r=3),
    "attentionnext56": imagenet_spec((1, 1, 1), unit="resnext"),
    "attentionnext92": imagenet_spec((1, 2, 3), unit="resnext"),
    "attention56_cifar": cifar_spec(1),
    "attention92_cifar": cifar_spec(2),
    "attention128_cifar": cifar_spec(3),
    "attention164_cifar": cifar_spec(4),
    "attention236_cifar": cifar_spec(6),
    # Paper Table 6: {p=2, t=4, r=3}, 6 modules per stage, 8.6 M params. With 2r = 6 units at the lowest mask level
    # the layout has 10.18 M; with r = 3 it has 8.51 M, the closest choice (docs/model_zoo.md). Pass lowest_units=6
    # for the Fig. 2 rule.
    "attention452_cifar": cifar_spec(6, p=2, t=4, r=3, lowest_units=3),
    # The paper's CIFAR baseline (Tables 5, 6; He et al., "Identity Mappings"): the same layout with no Attention
    # Modules, 18 pre-activation bottleneck units per stage. 1.70 M params.
    "preact_resnet164_cifar": NetSpec(
        "cifar", 16, (StageSpec(64, 1, 18), StageSpec(128, 2, 18), StageSpec(256, 2, 18))
    ),
}
