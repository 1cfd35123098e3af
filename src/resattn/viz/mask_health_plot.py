"""The figure of ``resattn analyze masks``: spatial contrast and knock-out accuracy of every Attention Module."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_mask_health(report: dict[str, Any], path: str | Path, title: str = "") -> None:
    """Left: each module's spatial contrast (median, quartiles) on a log scale with the flat threshold.
    Right: top-1 as trained and with the masks knocked out, per module and for all modules at once."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(report["modules"])
    stats = [report["modules"][n] for n in names]
    fig = Figure(figsize=(12, 4.5))  # its own Agg canvas: no pyplot state, no backend switch
    FigureCanvasAgg(fig)
    ax_c, ax_k = fig.subplots(1, 2)
    xs = range(len(names))
    medians = [s["contrast_median"] for s in stats]
    low = [max(s["contrast_median"] - s["contrast_q25"], 0.0) for s in stats]
    high = [max(s["contrast_q75"] - s["contrast_median"], 0.0) for s in stats]
    ax_c.bar(xs, medians, yerr=[low, high], capsize=4, color="tab:blue")
    ax_c.axhline(report["flat_threshold"], color="tab:red", linestyle="--",
                 label=f"flat below {report['flat_threshold']}")
    ax_c.set_yscale("log")
    ax_c.set_xticks(list(xs), names, rotation=30, ha="right")
    ax_c.set(ylabel="per-channel spatial std of M\n(median, quartiles over channels)", title="Spatial contrast")
    ax_c.legend()
    labels = names + ["all modules"]
    rows = stats + [report["all_modules"]]
    width = 0.38
    ax_k.axhline(report["top1"], color="black", linewidth=1, label=f"as trained ({report['top1']:.2f}%)")
    ax_k.bar([i - width / 2 for i in range(len(labels))], [r["knockout_spatial_mean_top1"] for r in rows], width,
             label="M -> its per-channel spatial mean")
    ax_k.bar([i + width / 2 for i in range(len(labels))], [r["knockout_constant_top1"] for r in rows], width,
             label="M -> 0.5")
    lowest = min(min(r["knockout_constant_top1"], r["knockout_spatial_mean_top1"]) for r in rows)
    ax_k.set_ylim(max(0.0, lowest - 5.0), min(100.0, report["top1"] + 2.0))
    ax_k.set_xticks(list(range(len(labels))), labels, rotation=30, ha="right")
    ax_k.set(ylabel="top-1 (%)", title="Knock-outs")
    ax_k.legend(fontsize=8, loc="lower left")
    for ax in (ax_c, ax_k):
        ax.grid(alpha=0.3, axis="y")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
