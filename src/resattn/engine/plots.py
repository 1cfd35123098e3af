"""``curves.png``: training loss and validation accuracy against iterations."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def plot_curves(rows: Sequence[dict[str, Any]], path: str | Path) -> None:
    """Two panels (loss; top-1 / top-5) from ``summary.csv`` rows; written atomically next to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [int(r["step"]) for r in rows]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(steps, [float(r["train_loss"]) for r in rows], marker="o", label="train")
    ax_loss.plot(steps, [float(r["val_loss"]) for r in rows], marker="o", label="validation")
    ax_loss.set(xlabel="iteration", ylabel="cross-entropy loss", title="Loss")
    ax_loss.legend()
    ax_acc.plot(steps, [float(r["val_top1"]) for r in rows], marker="o", label="val top-1")
    ax_acc.plot(steps, [float(r["val_top5"]) for r in rows], marker="o", label="val top-5")
    ax_acc.set(xlabel="iteration", ylabel="accuracy (%)", title="Validation accuracy")
    ax_acc.legend()
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
