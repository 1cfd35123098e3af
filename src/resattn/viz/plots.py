"""Soft-mask figures in the manner of paper Fig. 1: each input image beside the attention maps of its modules."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch

from .recorder import Reduction, owner_name, reduce_mask

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["describe_mask", "display_images", "mask_grid"]

# Stretched maps whose spread is below this fraction of their magnitude are drawn in the middle colour (float32
# resolves about 1e-7), so that rounding noise is not painted as structure.
_CONSTANT = 1e-4
_STAGE = re.compile(r"(?:^|\.)stages\.(\d+)(?:\.|$)")


def describe_mask(name: str, mask: torch.Tensor) -> str:
    """Column title for a mask: its stage (1-based, as in the paper), resolution, channels and module name."""
    head = f"{mask.shape[-2]}x{mask.shape[-1]}, {mask.shape[1]} ch"
    stage = _STAGE.search(name)
    if stage is not None:
        head = f"stage {int(stage.group(1)) + 1} · {head}"
    return f"{head}\n{owner_name(name)}"


def display_images(
    images: torch.Tensor, mean: Sequence[float] | None = None, std: Sequence[float] | None = None
) -> np.ndarray:
    """Model inputs ``(N, C, H, W)`` as displayable ``(N, H, W, C)`` floats in ``[0, 1]``.

    With ``mean`` / ``std`` (the dataset's normalisation, one value or one per channel) the normalisation is undone;
    without them each image is stretched to its own range, which shows any normalised input legibly. uint8 images
    are only scaled to ``[0, 1]``.
    """
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"Expected images of shape (N, 1 or 3, H, W), got shape {tuple(images.shape)}")
    if images.dtype == torch.uint8:
        x = images.float() / 255.0
    elif mean is not None and std is not None:
        stats = [torch.as_tensor(v, dtype=torch.float32).reshape(-1) for v in (mean, std)]
        if any(s.numel() not in (1, images.shape[1]) for s in stats):
            raise ValueError(f"mean / std need 1 or {images.shape[1]} values, got {list(mean)} and {list(std)}")
        x = images.detach().float().cpu() * stats[1].view(1, -1, 1, 1) + stats[0].view(1, -1, 1, 1)
    else:
        x = images.detach().float().cpu()
        lo = x.amin(dim=(1, 2, 3), keepdim=True)
        hi = x.amax(dim=(1, 2, 3), keepdim=True)
        x = (x - lo) / (hi - lo).clamp_min(1e-12)
    return x.clamp(0.0, 1.0).permute(0, 2, 3, 1).cpu().numpy()


def _hide_axes(ax) -> None:
    # Not ax.axis("off"): that would also hide the row label written as the first column's y-label.
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _show_image(ax, image: np.ndarray) -> None:
    if image.shape[-1] == 1:
        ax.imshow(image[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(image, interpolation="nearest")


def mask_grid(
    images: torch.Tensor,
    masks: Mapping[str, torch.Tensor],
    titles: Sequence[str] | None = None,
    overlay: bool | Literal["both"] = True,
    cmap: str = "jet",
    path: str | Path | None = None,
    *,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    reduction: Reduction = "mean",
    alpha: float = 0.5,
    value_range: tuple[float, float] | None = None,
    stretch: bool = False,
    dpi: int = 100,
) -> Figure:
    """A grid with one row per image: the input, then each module's soft mask (paper Fig. 1).

    Args:
        images: the model's inputs, ``(N, C, H, W)`` with C = 1 (grayscale) or 3 (RGB), normalised as the model saw
            them (or uint8).
        masks: ``{module name: mask (N, C', h, w)}``, e.g. :attr:`MaskRecorder.masks`; each is reduced to one map
            with ``reduction`` and up-sampled bilinearly to the image's size.
        titles: one label per row (e.g. file name and predicted class); default "image i".
        overlay: True: the mask over the image; False: the plain heatmap; "both": two columns per module.
        cmap: matplotlib colour map of the masks.
        path: where to write a PNG (parent folders are created); None writes nothing.
        mean, std: the dataset's normalisation, undone for display (see :func:`display_images`).
        reduction: "mean", "max" or a channel index (see :func:`~resattn.viz.recorder.reduce_mask`).
        alpha: opacity of the mask over the image.
        value_range: the one colour scale shared by every map, in values of M. None: ``(0, 1)`` when every mask
            lies in it (sigmoid masks), else the smallest and largest value over all the masks.
        stretch: colour each map on its own minimum and maximum instead (printed under it, and said on the
            figure): shows where a nearly flat mask is highest, but makes maps incomparable and noise look like
            attention.
        dpi: resolution of the written PNG.

    A module whose mask is flat over the drawn images (median per-channel spatial std below
    :data:`~resattn.analysis.mask_health.FLAT_CONTRAST`) is flagged in its column title.

    Returns:
        The matplotlib Figure (not registered with pyplot, so it needs no closing).

    Raises:
        ValueError: on empty ``masks``, mismatched batch sizes or titles, or an unknown ``overlay``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    from ..analysis.mask_health import FLAT_CONTRAST, spatial_contrast  # analysis builds on viz.recorder

    if not masks:
        raise ValueError("No masks to draw")
    if overlay not in (True, False, "both"):
        raise ValueError(f"overlay must be True, False or 'both', got {overlay!r}")
    shown = display_images(images, mean, std)
    n, height, width = shown.shape[:3]
    for name, mask in masks.items():
        if mask.ndim != 4 or mask.shape[0] != n:
            raise ValueError(f"Mask {name!r} has shape {tuple(mask.shape)}; expected (N={n}, C, H, W)")
    if titles is None:
        titles = [f"image {i}" for i in range(n)]
    if len(titles) != n:
        raise ValueError(f"Got {len(titles)} titles for {n} images")
    maps = {}
    for name, mask in masks.items():
        try:
            maps[name] = reduce_mask(mask, reduction, (height, width))[:, 0].cpu().numpy()
        except ValueError as err:  # say which mask: channel counts differ from stage to stage
            raise ValueError(f"Mask {owner_name(name)!r}: {err}") from err
    if value_range is None:
        lo = min(float(m.min()) for m in masks.values())
        hi = max(float(m.max()) for m in masks.values())
        value_range = (0.0, 1.0) if 0.0 <= lo and hi <= 1.0 else (lo, hi)
    contrast = {name: spatial_contrast(mask) for name, mask in masks.items()}
    modes = [True, False] if overlay == "both" else [bool(overlay)]
    ncols = 1 + len(maps) * len(modes)

    # Figure + Agg canvas directly rather than pyplot: no global backend switch, nothing left open in a loop.
    fig = Figure(figsize=(1.9 * ncols + 0.8, 2.0 * n + 0.7), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n, ncols, squeeze=False)
    for row in range(n):
        _show_image(axes[row, 0], shown[row])
        axes[row, 0].set_ylabel(titles[row], fontsize=8)
        col = 1
        for mmap in maps.values():
            m = mmap[row]
            lo, hi = float(m.min()), float(m.max())
            label = f"M: {lo:.3g} to {hi:.3g}"
            if not stretch:
                vmin, vmax = value_range
            elif hi - lo <= _CONSTANT * max(abs(lo), abs(hi), 1e-30):
                # Stretching a flat map (e.g. a saturated max over channels) would paint float rounding noise as
                # structure: draw it in the middle colour instead.
                vmin, vmax, label = lo - 1.0, hi + 1.0, f"M = {lo:.3g} everywhere"
            else:
                vmin, vmax = lo, hi
            for on_image in modes:
                ax = axes[row, col]
                if on_image:
                    _show_image(ax, shown[row])
                ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax, alpha=alpha if on_image else 1.0,
                          interpolation="bilinear")
                ax.set_xlabel(label, fontsize=7)
                col += 1
    axes[0, 0].set_title("input", fontsize=8)
    col = 1
    for name, mask in masks.items():
        for on_image in modes:
            suffix = ("\n(overlay)" if on_image else "\n(heatmap)") if len(modes) > 1 else ""
            title = describe_mask(name, mask) + suffix
            if contrast[name] < FLAT_CONTRAST:
                axes[0, col].set_title(f"{title}\nFLAT: spatial std {contrast[name]:.2g}", fontsize=8, color="red")
            else:
                axes[0, col].set_title(title, fontsize=8)
            col += 1
    for ax in axes.flat:
        _hide_axes(ax)
    norm = Normalize(*((0.0, 1.0) if stretch else value_range))
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=axes[:, 1:].ravel().tolist(), shrink=0.8)
    how = f"channel {reduction}" if isinstance(reduction, int) else f"{reduction} over channels"
    if stretch:
        bar.set_ticks([0.0, 1.0], labels=["low", "high"])
        bar.set_label(f"soft mask M, {how} (each map's own range)", fontsize=8)
        fig.suptitle("STRETCHED: each map coloured on its own range (printed under it); colours are not "
                     "comparable between maps", fontsize=8, color="red")
    else:
        bar.set_label(f"soft mask M, {how} (one scale for every map)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, format="png")
    return fig
