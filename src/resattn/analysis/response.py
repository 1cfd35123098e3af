"""Paper Fig. 4: the mean absolute response of each stage's output features, relative to stage 1.

With naive attention learning (H = M * T) repeated multiplication by masks in [0, 1] shrinks the features stage by
stage; attention residual learning keeps them at the level of a plain ResNet (paper section 3.1 and 4.1).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


@torch.no_grad()
def stage_mean_responses(model: nn.Module, batches: Iterable[torch.Tensor | tuple], device: str = "cpu",
                         max_images: int | None = None) -> list[float]:
    """Mean of |x| over every element of each stage's output (the raw residual stream), over a data sample.

    Args:
        model: a resattn model (anything with timm's ``forward_intermediates``); evaluated in eval mode.
        batches: images, or (images, labels) tuples.
        device: where to run.
        max_images: stop after this many images.

    Returns:
        One value per stage (the stem is left out), in stage order.
    """
    model.eval().to(device)
    num_stages = len(model.stages)
    sums, count = torch.zeros(num_stages, dtype=torch.float64), 0
    for batch in batches:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        if max_images is not None:
            x = x[: max_images - count]
        if x.shape[0] == 0:
            break
        feats = model.forward_intermediates(x.to(device), indices=list(range(1, num_stages + 1)),
                                            intermediates_only=True)
        for i, f in enumerate(feats):
            sums[i] += f.abs().mean(dim=(1, 2, 3)).double().sum().item()
        count += x.shape[0]
        if max_images is not None and count >= max_images:
            break
    if count == 0:
        raise ValueError("stage_mean_responses got no images")
    return (sums / count).tolist()


def relative_mean_response(responses: list[float]) -> list[float]:
    """Normalise to 1 at stage 1, as the paper's "Relative Mean Response" axis."""
    if responses[0] == 0:
        raise ValueError("stage 1 has zero mean response; cannot normalise")
    return [r / responses[0] for r in responses]


def plot_responses(curves: dict[str, list[float]], path: str) -> None:
    """One line per model: relative mean response against stage (paper Fig. 4)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 4))  # its own Agg canvas: no pyplot, no global backend
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for label, values in curves.items():
        ax.plot(range(1, len(values) + 1), values, marker="o", label=label)
    ax.set(xlabel="stage", ylabel="relative mean response", title="Mean absolute response per stage (Fig. 4)")
    ax.set_xticks(range(1, max(len(v) for v in curves.values()) + 1))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
