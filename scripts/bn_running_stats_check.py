"""Is a checkpoint's validation accuracy held back by its BatchNorm running statistics?

    python scripts/bn_running_stats_check.py runs/release_fmnist/last.pt [--images 2000] [--batch 500]

Evaluates the run's own validation images (the checkpoint's split) twice: as usual, BN normalising with its running
statistics, and with every BN normalising each batch by that batch's statistics (running statistics untouched).
A large gap means the running statistics lag behind the weights (high learning rates do this); it closes as the LR
decays. Then lists the BN layers whose input variance on these images is furthest from their running variance,
inside the soft-mask branches and elsewhere.
"""

from __future__ import annotations

import argparse
import copy
import math

import torch
from torch import nn

from resattn.engine.checkpoint import CheckpointError
from resattn.engine.common import evaluation_data
from resattn.engine.restore import load_model


def _top1(model: nn.Module, xs: torch.Tensor, ys: torch.Tensor, batch: int) -> float:
    correct = 0
    with torch.no_grad():
        for i in range(0, len(xs), batch):
            correct += (model(xs[i:i + batch]).argmax(1) == ys[i:i + batch]).sum().item()
    return 100 * correct / len(xs)


def _variance_ratios(model: nn.Module, x: torch.Tensor) -> list[tuple[str, float, float]]:
    """(name, median, max) over channels of input variance / running variance, for every BN, in eval mode."""
    rows, hooks = [], []
    for name, module in model.named_modules():
        if isinstance(module, nn.BatchNorm2d):
            def hook(module, inputs, _, name=name):
                ratio = (inputs[0].float().var(dim=(0, 2, 3)) + module.eps) / (module.running_var + module.eps)
                rows.append((name, ratio.median().item(), ratio.max().item()))
            hooks.append(module.register_forward_hook(hook))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint", help="a training checkpoint (it holds the seed of the validation split)")
    p.add_argument("--images", type=int, default=2000, help="validation images, evenly spread")
    p.add_argument("--batch", type=int, default=500)
    args = p.parse_args()
    try:
        loaded = load_model(args.checkpoint)
        _, _, data = evaluation_data(loaded, None, None, "val")
    except (OSError, ValueError, CheckpointError) as e:  # a missing or foreign file; no run config
        p.error(str(e))
    step = max(1, len(data) // args.images)
    idx = list(range(0, len(data), step))[:args.images]
    xs = torch.stack([data[i][0] for i in idx])
    ys = torch.tensor([int(data[i][1]) for i in idx])
    model = loaded.model.eval()
    batch_stats = copy.deepcopy(model)
    for module in batch_stats.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.train()
            module.momentum = 0.0  # normalise by the batch, leave the running statistics as they are
    print(f"{args.checkpoint}: {len(xs)} validation images")
    print(f"  top-1 with running statistics (eval mode): {_top1(model, xs, ys, args.batch):.2f}%")
    print(f"  top-1 with each batch's statistics ({args.batch} images): {_top1(batch_stats, xs, ys, args.batch):.2f}%")
    rows = sorted(_variance_ratios(model, xs[:args.batch]), key=lambda r: -abs(math.log(r[1])))
    for where, keep in (("soft-mask branches", lambda n: ".mask." in n), ("elsewhere", lambda n: ".mask." not in n)):
        print(f"  input variance / running variance, furthest from 1, {where} (median, max over channels):")
        for name, median, largest in [r for r in rows if keep(r[0])][:5]:
            print(f"    {name}: {median:.2f}, {largest:.1f}")


if __name__ == "__main__":
    main()
