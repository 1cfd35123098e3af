"""The Residual Attention Network (Wang et al., CVPR 2017): one parameterised network class; every paper variant
is a ``NetSpec`` (models/specs.py), registered with timm in models/registry.py. docs/architecture.md gives the
source of every operator.

State-dict keys are public API and pinned by ``tests/models/test_state_dict_keys.py``::

    stem.conv / stem.bn                       ImageNet stem (7x7/2 conv, BN, ReLU, 3x3/2 ceil max-pool)
    stages.{i}.blocks.{j}                     a residual unit or an AttentionModule
    stages.{i}.blocks.{j}.{pre,trunk,post}.{k} the module's p / t / p units
    stages.{i}.blocks.{j}.mask.{down,skips,up}.{l}[.{k}], .mask.bottom.{k}, .mask.head.{bn1,conv1,bn2,conv2}
    norm                                      final BN of pre-activation nets (followed by ReLU)
    head.fc                                   classifier
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
from timm.layers import ClassifierHead
from timm.models import checkpoint_seq
from torch import nn

from ..layers import UNIT_TYPES, AttentionModule, batch_norm
from ..layers.soft_mask import _check_choice
from .entry import check_input_size, cpu_channels_last
from .specs import NetSpec

__all__ = ["ResidualAttentionNet", "Stem"]

# Leaves for torch.fx: traced graphs call them as they are (models/entry.py).
torch.fx.wrap("check_input_size")
torch.fx.wrap("cpu_channels_last")


class Stem(nn.Module):
    """ImageNet stem (conv1 7x7/2 -> BN -> ReLU -> pool1 3x3/2 ceil) or the CIFAR stem (a 3x3 conv alone).

    In a pre-activation net the BN-ReLU after pool1 belongs to the first unit (prototxt ``pool1_3x3_s2/bn``).
    """

    def __init__(self, kind: str, in_chans: int, out_chs: int) -> None:
        super().__init__()
        _check_choice("stem", kind, ("imagenet", "cifar"))
        if kind == "imagenet":
            self.conv = nn.Conv2d(in_chans, out_chs, 7, stride=2, padding=3, bias=False)
            self.bn: nn.Module = batch_norm(out_chs)
            self.act: nn.Module = nn.ReLU(inplace=True)
            self.pool: nn.Module = nn.MaxPool2d(3, stride=2, padding=0, ceil_mode=True)
            self.reduction = 4
        else:  # identities hold no state: the CIFAR stem's keys are stem.conv only
            self.conv = nn.Conv2d(in_chans, out_chs, 3, stride=1, padding=1, bias=False)
            self.bn, self.act, self.pool = nn.Identity(), nn.Identity(), nn.Identity()
            self.reduction = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.act(self.bn(self.conv(x))))


class Stage(nn.Module):
    """A sequence of residual units and Attention Modules, optionally gradient-checkpointed."""

    def __init__(self, blocks: Sequence[nn.Module]) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*blocks)
        self.grad_checkpointing = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.grad_checkpointing and not torch.jit.is_scripting():
            return checkpoint_seq(self.blocks, x)
        return self.blocks(x)


def feature_take_indices(num_features: int, indices: int | Sequence[int] | None) -> tuple[list[int], int]:
    """timm's convention: None = all, an int n = the last n, a sequence = those (negative from the end)."""
    if indices is None:
        indices = num_features
    if isinstance(indices, int):
        if not 0 < indices <= num_features:
            raise ValueError(f"last-n feature count {indices} is out of range (1 to {num_features})")
        take = list(range(num_features - indices, num_features))
    else:
        take = [num_features + i if i < 0 else i for i in indices]
        bad = [i for i in take if not 0 <= i < num_features]
        if bad:
            raise ValueError(f"feature indices {bad} are out of range (0 to {num_features - 1})")
    return take, max(take)


def _pool_out(size: int) -> int:
    """Output size of the 3x3/2 ceil-mode max-pool; raises where PyTorch would (an empty output)."""
    out = -(-(size - 3) // 2) + 1  # ceil((size - 3) / 2) + 1
    if (out - 1) * 2 >= size:  # PyTorch drops a last window that starts in the padding
        out -= 1
    if out < 1:
        raise ValueError
    return out


class ResidualAttentionNet(nn.Module):
    """Residual Attention Network (and, with no modules, the pre-activation ResNet baseline).

    Args:
        spec: the network's layout (``NET_SPECS`` holds every paper variant).
        num_classes: classifier outputs (0 for a feature extractor).
        in_chans: input channels (1 for grayscale, e.g. Fashion-MNIST).
        drop_rate: dropout before the classifier.
        global_pool: timm pooling type. Global average pooling lets any input size through (Attention-92 is
            evaluated at 320 in the paper, where the prototxt's fixed 7x7 pool would not fit).
        attention_residual: True: H = (1 + M) * T (paper Eq. 3); False: naive attention learning H = M * T (Eq. 1).
        mask_act: "mixed" | "channel" | "spatial" (paper Eq. 4 / 5 / 6, Table 1).
        mask_type: "encoder_decoder" | "local_conv" (paper Table 4).
        p, t, r: Attention Module hyper-parameters (default: the spec's, {1, 2, 1} for the paper's nets).
        lowest_units: mask units at the lowest resolution (default: the spec's, 2r unless it says otherwise).
        align_corners: bilinear interpolation mode of the mask's up-sampling (True = Caffe Interp).
    """

    def __init__(
        self,
        spec: NetSpec,
        num_classes: int = 1000,
        in_chans: int = 3,
        drop_rate: float = 0.0,
        global_pool: str = "avg",
        attention_residual: bool = True,
        mask_act: str = "mixed",
        mask_type: str = "encoder_decoder",
        p: int | None = None,
        t: int | None = None,
        r: int | None = None,
        lowest_units: int | None = None,
        align_corners: bool = True,
    ) -> None:
        super().__init__()
        for name, value in (("p", p), ("t", t), ("r", r), ("lowest_units", lowest_units)):
            if value is not None and (not isinstance(value, int) or value < (0 if name == "lowest_units" else 1)):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(in_chans, int) or in_chans < 1:
            raise ValueError(f"in_chans must be a positive integer, got {in_chans!r}")
        _check_choice("unit type", spec.unit, tuple(UNIT_TYPES))
        spec = dataclasses.replace(
            spec,
            p=spec.p if p is None else p,
            t=spec.t if t is None else t,
            r=spec.r if r is None else r,
            lowest_units=spec.lowest_units if lowest_units is None else lowest_units,
        )
        self.spec = spec
        self.num_classes = num_classes
        self.in_chans = in_chans
        self.drop_rate = drop_rate
        self.preact = spec.unit == "preact"
        unit = UNIT_TYPES[spec.unit]

        self.stem = Stem(spec.stem, in_chans, spec.stem_chs)
        self.feature_info = [dict(num_chs=spec.stem_chs, reduction=self.stem.reduction, module="stem")]
        stages, in_chs, reduction = [], spec.stem_chs, self.stem.reduction
        for idx, st in enumerate(spec.stages):
            blocks: list[nn.Module] = [unit(in_chs, st.out_chs, st.stride)]
            blocks += [unit(st.out_chs, st.out_chs) for _ in range(st.units_before - 1)]
            blocks += [
                AttentionModule(
                    unit, st.out_chs, st.num_pools, spec.p, spec.t, spec.r,
                    attention_residual=attention_residual, mask_act=mask_act, mask_type=mask_type,
                    lowest_units=spec.lowest_units, preact=self.preact, align_corners=align_corners,
                )
                for _ in range(st.modules)
            ]
            blocks += [unit(st.out_chs, st.out_chs) for _ in range(st.units_after)]
            stages.append(Stage(blocks))
            in_chs, reduction = st.out_chs, reduction * st.stride
            self.feature_info.append(dict(num_chs=in_chs, reduction=reduction, module=f"stages.{idx}"))
        self.stages = nn.Sequential(*stages)
        self.num_features = self.head_hidden_size = in_chs
        # Pre-activation nets end with BN -> ReLU (prototxt "post_res_4_3/bn"); post-activation units end in ReLU.
        self.norm = batch_norm(in_chs) if self.preact else nn.Identity()
        self.final_act = nn.ReLU(inplace=True) if self.preact else nn.Identity()
        self.head = ClassifierHead(in_chs, num_classes, pool_type=global_pool, drop_rate=drop_rate)
        self.min_input_size = self._min_input_size()
        self._init_weights()

    # ----------------------------------------------------------------------------------------------------- setup
    def _init_weights(self) -> None:
        # MSRA init (He et al. 2015, paper section 4.1 "[9]"), BN to identity, small normal classifier.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)

    def _spatial_ok(self, size: int) -> bool:
        """Whether an input side of ``size`` pixels survives the stem, the strides and every mask's poolings."""
        try:
            if self.spec.stem == "imagenet":
                size = _pool_out((size - 1) // 2 + 1)  # conv1 7x7/2 pad 3, then pool1
            for st in self.spec.stages:
                size = (size - 1) // st.stride + 1  # 3x3 conv, pad 1
                if st.modules:
                    mask_size = size
                    for _ in range(st.num_pools):
                        mask_size = _pool_out(mask_size)
        except ValueError:
            return False
        return True

    def _min_input_size(self) -> int:
        return next(size for size in range(1, 4097) if self._spatial_ok(size))

    def check_input(self, x: torch.Tensor) -> None:
        """Raise a clear ValueError for an input this network cannot take (the forward passes check too)."""
        check_input_size(x, self.in_chans, self.min_input_size)

    def _entry(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        return cpu_channels_last(x)

    # ------------------------------------------------------------------------------------------ timm contract
    @torch.jit.ignore
    def group_matcher(self, coarse: bool = False) -> dict:
        return dict(stem=r"^stem", blocks=r"^stages\.(\d+)" if coarse else r"^stages\.(\d+)\.blocks\.(\d+)")

    @torch.jit.ignore
    def set_grad_checkpointing(self, enable: bool = True) -> None:
        for stage in self.stages:
            stage.grad_checkpointing = enable

    @torch.jit.ignore
    def get_classifier(self) -> nn.Module:
        return self.head.fc

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        self.num_classes = num_classes
        self.head.reset(num_classes, pool_type=global_pool)

    def forward_intermediates(
        self,
        x: torch.Tensor,
        indices: int | list[int] | None = None,
        norm: bool = False,
        stop_early: bool = False,
        output_fmt: str = "NCHW",
        intermediates_only: bool = False,
    ) -> list[torch.Tensor] | tuple[torch.Tensor, list[torch.Tensor]]:
        """Features of the stem (index 0) and of each stage (1..); ``norm`` applies the final BN-ReLU to the last."""
        if output_fmt != "NCHW":
            raise ValueError(f"output_fmt must be 'NCHW', got {output_fmt!r}")
        take_indices, max_index = feature_take_indices(len(self.stages) + 1, indices)
        intermediates = []
        x = self.stem(self._entry(x))
        if 0 in take_indices:
            intermediates.append(x)
        stages = self.stages if (torch.jit.is_scripting() or not stop_early) else self.stages[:max_index]
        last_idx, feat_idx = len(self.stages), 0
        for feat_idx, stage in enumerate(stages, start=1):
            x = stage(x)
            if feat_idx in take_indices:
                intermediates.append(self._final_norm(x) if (norm and feat_idx == last_idx) else x)
        if intermediates_only:
            return intermediates
        if feat_idx == last_idx:
            x = self._final_norm(x)
        return x, intermediates

    def prune_intermediate_layers(
        self, indices: int | list[int] = 1, prune_norm: bool = False, prune_head: bool = True
    ) -> list[int]:
        take_indices, max_index = feature_take_indices(len(self.stages) + 1, indices)
        self.stages = self.stages[:max_index]
        if prune_norm:
            self.norm, self.final_act = nn.Identity(), nn.Identity()
        if prune_head:
            self.reset_classifier(0, "")
        return take_indices

    def _final_norm(self, x: torch.Tensor) -> torch.Tensor:
        return self.final_act(self.norm(x))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(self._entry(x)))
        return self._final_norm(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        return self.head(x, pre_logits=pre_logits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
