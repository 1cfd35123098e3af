"""``resattn visualize``: draw the soft masks of a model's Attention Modules over images (paper Fig. 1)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .evaluate import _add_model_source, collect_images, image_to_input

if TYPE_CHECKING:
    from ..engine.restore import LoadedModel


def _reduction(text: str) -> str | int:
    """``mean`` / ``max`` or a channel index, for ``--reduction``."""
    if text in ("mean", "max"):
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'mean', 'max' or a channel index, got {text!r}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_visualize_args(p: argparse.ArgumentParser) -> None:
    _add_model_source(p)
    p.add_argument("--images", nargs="+", required=True, metavar="PATH", help="image files or folders")
    p.add_argument("--output", "-o", required=True, help="PNG file to write")
    p.add_argument("--modules", nargs="+", metavar="NAME",
                   help="masks to draw: Attention Modules (stages.0.blocks.1), stages (stages.0) or full "
                        "'...mask.head.act' paths (default: every mask)")
    p.add_argument("--reduction", type=_reduction, default="mean", metavar="{mean,max,N}",
                   help="how a mask's channels become one map: mean, max or channel index N (default: mean)")
    p.add_argument("--max-images", type=_positive, default=8, help="rows of the figure (default: 8)")
    p.add_argument("--dataset", help="preprocessing preset, normalisation and class names (default: the checkpoint's)")
    p.add_argument("--img-size", type=int, help="input size (default: the dataset's)")
    p.add_argument("--no-overlay", dest="overlay", action="store_false",
                   help="plain heatmaps instead of masks drawn over the images")
    p.add_argument("--fixed-range", action="store_true",
                   help="colour every mask on the range 0 to 1 (sigmoid masks) instead of each map's own range")


def _normalisation(transform: Any) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """The mean / std of the transform's normalisation step, so that display undoes exactly what was applied."""
    for step in reversed(getattr(transform, "transforms", [transform])):
        mean, std = getattr(step, "mean", None), getattr(step, "std", None)
        if mean is not None and std is not None:
            return tuple(float(v) for v in mean), tuple(float(v) for v in std)
    return None


def _load(args: argparse.Namespace, info: dict[str, Any] | None) -> LoadedModel:
    """The model to draw, from ``--checkpoint`` or ``--model``; every unreadable checkpoint is a CheckpointError."""
    from ..engine.restore import load_model

    kwargs: dict[str, Any] = {}
    if args.checkpoint is None and not args.pretrained and info is not None:
        # An untrained zoo model is built for the named dataset, so that e.g. Fashion-MNIST images go in as 1 channel.
        kwargs = dict(in_chans=info["in_chans"])
        if info["num_classes"]:  # None for image folders: the class count comes from the files
            kwargs["num_classes"] = info["num_classes"]
    return load_model(args.checkpoint, args.model, args.pretrained, which="ema" if args.ema else "model", **kwargs)


def run_visualize(args: argparse.Namespace) -> int:
    from ..data import create_transform, dataset_info
    from ..engine.trainer import resolve_device
    from ..viz import mask_grid, record_masks

    out = Path(args.output)
    if out.suffix.lower() != ".png":
        raise ValueError(f"--output must be a .png file, got {out}")
    info = dataset_info(args.dataset) if args.dataset else None
    loaded = _load(args, info)
    dataset = args.dataset or loaded.dataset
    if info is None and dataset:
        info = dataset_info(dataset)
    model = loaded.model
    # The same preprocessing as `resattn predict`: the dataset's preset, else the model's own input size.
    preset = info["transform_preset"] if info else "imagenet"
    size = args.img_size or (info["image_size"] if info else model.pretrained_cfg["input_size"][-1])
    transform = create_transform(preset, train=False, img_size=size)
    stats = _normalisation(transform)

    files = collect_images(args.images)
    if len(files) > args.max_images:
        print(f"Drawing the first {args.max_images} of {len(files)} images (--max-images)")
        files = files[: args.max_images]
    x = torch.stack([image_to_input(f, model.in_chans, preset, size, transform) for f in files])

    device = resolve_device(args.device)
    model = model.to(device)
    logits, masks = record_masks(model, x.to(device), args.modules)
    names = loaded.class_names or (list(info["class_names"]) if info and info["class_names"] else [])
    top_p, top_i = logits.float().softmax(dim=1).max(dim=1)
    titles = []
    for f, p, i in zip(files, top_p.tolist(), top_i.tolist(), strict=True):
        label = names[i] if i < len(names) else f"class {i}"
        titles.append(f"{f.name}\n{label} ({100 * p:.0f}%)")

    mask_grid(x, {k: v.cpu() for k, v in masks.items()}, titles, overlay=args.overlay, path=out,
              mean=stats[0] if stats else None, std=stats[1] if stats else None, reduction=args.reduction,
              value_range=(0.0, 1.0) if args.fixed_range else None)
    print(f"Wrote {out} ({len(files)} images x {len(masks)} masks of {loaded.name})")
    return 0
