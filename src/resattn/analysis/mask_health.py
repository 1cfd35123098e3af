"""Mask health: whether the soft masks M of a Residual Attention Network still carry spatial attention.

Per Attention Module, over a data set:

* **distribution** of M: mean, standard deviation and the fraction of values outside [0.3, 0.7];
* **spatial contrast**: the standard deviation of M over the positions of one channel map, averaged over the images
  for each channel, summarised by its median and quartiles over the channels. A mask whose channels are each
  constant over the image has contrast 0: it can still scale channels, but it no longer says *where* to look;
* **knock-outs** (:func:`analyze_masks`): top-1 when M is replaced by its own per-channel spatial mean (the spatial
  information removed, the channel scaling kept) and when M is replaced by the constant 0.5, for each module alone
  and for all modules at once.

A stage counts as *flat* when the median spatial contrast of its masks is below :data:`FLAT_CONTRAST`
(docs/attention_maps.md gives the measurements behind the value).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import torch
from torch import nn

from ..viz.recorder import mask_modules, owner_name

__all__ = [
    "FLAT_CONTRAST",
    "KNOCKOUTS",
    "MaskHealthMeter",
    "analyze_masks",
    "flat_stages",
    "knock_out_masks",
    "spatial_contrast",
    "stage_contrast",
    "stage_of",
]

# Median per-channel spatial std of M below which a stage's masks are called flat. Fashion-MNIST runs of
# attention56_cifar measure 0.05 to 0.07 for living masks (5 epochs) and 0.0003 to 0.0014 for collapsed ones (the
# 80-epoch weights of 2026-11); 0.01 sits a factor of 5 or more away from both.
FLAT_CONTRAST = 0.01
OUTSIDE = (0.3, 0.7)  # "far from 0.5": a sigmoid mask that decides something leaves this band


def stage_of(name: str) -> str:
    """``stages.1.blocks.0.mask.head.act`` -> ``stage2`` (1-based, as the paper counts); other names unchanged."""
    parts = name.split(".")
    if len(parts) > 1 and parts[0] == "stages" and parts[1].isdigit():
        return f"stage{int(parts[1]) + 1}"
    return owner_name(name)


class MaskHealthMeter:
    """Accumulates the distribution and spatial contrast of every soft mask over many forward passes.

    Hooks the model's :class:`~resattn.layers.soft_mask.MaskActivation` modules (as ``MaskRecorder`` does) but keeps
    running sums instead of the masks, so a whole data set fits in a few numbers per channel::

        with MaskHealthMeter(model) as meter, torch.no_grad():
            for x, _ in loader:
                model(x)
        meter.summary()   # {"stages.0.blocks.1": {"mean": ..., "contrast_median": ..., ...}, ...}
    """

    def __init__(self, model: nn.Module) -> None:
        self.modules = mask_modules(model)
        if not self.modules:
            raise ValueError(f"{type(model).__name__} has no soft-mask branches (no MaskActivation module)")
        self._handles: list[Any] = []
        self.reset()

    def reset(self) -> None:
        self._sums: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> MaskHealthMeter:
        for name, module in self.modules.items():
            self._handles.append(module.register_forward_hook(self._make_hook(name)))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _make_hook(self, name: str) -> Callable[[nn.Module, tuple, torch.Tensor], None]:
        def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
            del module, args
            self._add(name, output.detach().float())

        return hook

    @torch.no_grad()
    def _add(self, name: str, m: torch.Tensor) -> None:
        n, c = m.shape[:2]
        s = self._sums.setdefault(name, dict(values=0, sum=0.0, sumsq=0.0, outside=0, images=0,
                                              contrast=torch.zeros(c, dtype=torch.float64)))
        s["values"] += m.numel()
        s["sum"] += m.sum(dtype=torch.float64).item()
        s["sumsq"] += m.square().sum(dtype=torch.float64).item()
        s["outside"] += ((m < OUTSIDE[0]) | (m > OUTSIDE[1])).sum().item()
        s["images"] += n
        s["contrast"] += m.flatten(2).std(dim=2, correction=0).sum(dim=0).double().cpu()

    def summary(self) -> dict[str, dict[str, float]]:
        """Per Attention Module (in forward order): mean, std, frac_outside, contrast_median / _q25 / _q75."""
        out = {}
        for name in self.modules:
            s = self._sums.get(name)
            if s is None:
                continue
            mean = s["sum"] / s["values"]
            var = max(s["sumsq"] / s["values"] - mean * mean, 0.0)
            per_channel = s["contrast"] / s["images"]
            q25, q50, q75 = torch.quantile(per_channel, torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64))
            out[owner_name(name)] = dict(mean=mean, std=var**0.5, frac_outside=s["outside"] / s["values"],
                                         contrast_median=q50.item(), contrast_q25=q25.item(),
                                         contrast_q75=q75.item(), stage=stage_of(name))
        return out


def spatial_contrast(mask: torch.Tensor) -> float:
    """Spatial contrast of one recorded mask ``(N, C, H, W)``: the median over channels of the per-channel spatial
    std of M, averaged over the images (the measure :class:`MaskHealthMeter` reports as ``contrast_median``)."""
    if mask.ndim != 4:
        raise ValueError(f"Expected a mask of shape (N, C, H, W), got shape {tuple(mask.shape)}")
    per_channel = mask.detach().float().flatten(2).std(dim=2, correction=0).mean(dim=0)
    return float(per_channel.double().quantile(0.5))


def stage_contrast(summary: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Median spatial contrast per stage (the mean over the stage's modules of their median)."""
    stages: dict[str, list[float]] = {}
    for stats in summary.values():
        stages.setdefault(stats["stage"], []).append(stats["contrast_median"])
    return {stage: sum(v) / len(v) for stage, v in stages.items()}


def flat_stages(contrast: dict[str, float], threshold: float = FLAT_CONTRAST) -> list[str]:
    """The stages whose median spatial contrast is below ``threshold``."""
    return [stage for stage, value in contrast.items() if value < threshold]


def _spatial_mean(m: torch.Tensor) -> torch.Tensor:
    return torch.ones_like(m) * m.mean(dim=(2, 3), keepdim=True)


def _constant(m: torch.Tensor) -> torch.Tensor:
    return torch.full_like(m, 0.5)


KNOCKOUTS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"spatial_mean": _spatial_mean, "constant": _constant}


@contextlib.contextmanager
def knock_out_masks(model: nn.Module, modules: Sequence[str] | None, kind: str) -> Iterator[None]:
    """Replace the masks M of ``modules`` (Attention Module names; None: all) while the context is open.

    ``kind``: ``"spatial_mean"`` (each channel map replaced by its own spatial mean, per image) or ``"constant"``
    (every value 0.5, the mask's output with all-zero input).
    """
    if kind not in KNOCKOUTS:
        raise ValueError(f"Unknown knock-out {kind!r}; allowed: {', '.join(KNOCKOUTS)}")
    available = mask_modules(model)
    owners = {owner_name(n): n for n in available}
    if modules is None:
        chosen = list(available)
    else:
        unknown = [m for m in modules if m not in owners]
        if unknown:
            raise ValueError(f"Unknown Attention Module(s) {', '.join(unknown)}; available: {', '.join(owners)}")
        chosen = [owners[m] for m in modules]
    replace = KNOCKOUTS[kind]
    handles = [available[n].register_forward_hook(lambda mod, args, out: replace(out)) for n in chosen]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@torch.no_grad()
def analyze_masks(model: nn.Module, batches: Callable[[], Iterable[tuple[torch.Tensor, torch.Tensor]]],
                  evaluate: Callable[[nn.Module, Iterable], dict[str, float]],
                  progress: Callable[[str], None] | None = None, per_module: bool = True) -> dict[str, Any]:
    """Mask health of ``model`` over a data set: statistics and knock-outs of every Attention Module.

    Args:
        model: a resattn attention model.
        batches: returns a fresh iterable of (images, labels) each call (one pass per evaluation).
        evaluate: ``evaluate(model, batches) -> {"top1": ...}``, e.g. :func:`resattn.engine.loop.evaluate` bound
            to a device.
        progress: called with a short description after each evaluation pass.
        per_module: also knock out each module alone (two passes per module); False: only all at once.

    Returns:
        ``{"top1", "modules": {name: stats (+ knockout_spatial_mean_top1 / knockout_constant_top1 per module)},
        "all_modules": {"knockout_spatial_mean_top1", "knockout_constant_top1"}, "stages": contrast per stage,
        "flat_stages", "flat_threshold"}``; accuracies in percent.
    """
    say = progress or (lambda text: None)
    meter = MaskHealthMeter(model)
    with meter:
        top1 = evaluate(model, batches())["top1"]
    say("masks as trained")
    modules = meter.summary()
    for name in modules if per_module else ():
        for kind in KNOCKOUTS:
            with knock_out_masks(model, [name], kind):
                modules[name][f"knockout_{kind}_top1"] = evaluate(model, batches())["top1"]
            say(f"{name}: {kind} knock-out")
    every = {}
    for kind in KNOCKOUTS:
        with knock_out_masks(model, None, kind):
            every[f"knockout_{kind}_top1"] = evaluate(model, batches())["top1"]
        say(f"every module: {kind} knock-out")
    contrast = stage_contrast(modules)
    return dict(top1=top1, modules=modules, all_modules=every, stages=contrast, flat_stages=flat_stages(contrast),
                flat_threshold=FLAT_CONTRAST)
