"""``curves.png``: training loss and validation accuracy against iterations."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def plot_curves(rows: Sequence[dict[str, Any]], path: str | Path) -> None:
    """Loss, validation accuracy and, for attention nets, each stage's mask contrast, from ``summary.csv`` rows;
    written atomically next to ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    contrast_keys = sorted({k for r in rows for k in r if k.startswith("mask_contrast_")})
    # A Figure on its own Agg canvas: no pyplot, so no global backend switch and nothing to close.
    fig = Figure(figsize=(15 if contrast_keys else 10, 4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3 if contrast_keys else 2)
    ax_loss, ax_acc = axes[:2]
    ax_loss.plot(*_series(rows, "train_loss"), marker="o", label="train")
    ax_loss.plot(*_series(rows, "val_loss"), marker="o", label="validation")
    ax_loss.set(xlabel="iteration", ylabel="cross-entropy loss", title="Loss")
    ax_loss.legend()
    val_top1 = _series(rows, "val_top1")
    ax_acc.plot(*val_top1, marker="o", label="val top-1")
    ax_acc.plot(*_series(rows, "val_top5"), marker="o", label="val top-5")
    title = "Validation accuracy" if val_top1[0] else "Validation accuracy (no validation split)"
    ax_acc.set(xlabel="iteration", ylabel="accuracy (%)", title=title)
    ax_acc.legend()
    if contrast_keys:
        from ..analysis.mask_health import FLAT_CONTRAST

        ax_mask = axes[2]
        for key in contrast_keys:
            ax_mask.plot(*_series(rows, key), marker="o", label=key.removeprefix("mask_contrast_"))
        ax_mask.axhline(FLAT_CONTRAST, color="grey", linestyle="--", label="flat below")
        # a run without a validation split measures its masks on training images (engine/builders.py mask_probe)
        images = "validation" if val_top1[0] else "training images"
        ax_mask.set(xlabel="iteration", ylabel="median per-channel spatial std of M", yscale="log",
                    title=f"Mask spatial contrast ({images})")
        ax_mask.legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    tmp.replace(path)


def _series(rows: Sequence[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    """Steps and values of ``key`` in the rows that have one (rows read back from summary.csv hold "" for none)."""
    points = [(int(r["step"]), float(r[key])) for r in rows if r.get(key) not in (None, "")]
    return [step for step, _ in points], [value for _, value in points]
