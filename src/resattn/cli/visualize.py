"""``resattn visualize``: draw the soft masks of a model's Attention Modules over images (paper Fig. 1)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .evaluate import _add_model_source, collect_images, model_input_spec

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
    p.add_argument("--output", "-o", required=True,
                   help="a .png file: one figure of the first --max-images images; a folder: one overlay PNG per "
                        "image plus contact_sheet.png")
    p.add_argument("--modules", nargs="+", metavar="NAME",
                   help="masks to draw: Attention Modules (stages.0.blocks.1), stages (stages.0) or full "
                        "'...mask.head.act' paths (default: every mask)")
    p.add_argument("--reduction", type=_reduction, default="mean", metavar="{mean,max,N}",
                   help="how a mask's channels become one map: mean, max or channel index N (default: mean)")
    p.add_argument("--max-images", type=_positive, default=8,
                   help="rows of the figure or contact sheet (default: 8)")
    p.add_argument("--dataset", help="preprocessing preset, normalisation and class names (default: the checkpoint's)")
    p.add_argument("--img-size", type=int, help="input size (default: the dataset's)")
    p.add_argument("--no-overlay", dest="overlay", action="store_false",
                   help="plain heatmaps instead of masks drawn over the images")
    p.add_argument("--stretch", action="store_true",
                   help="colour each map on its own range instead of one scale for all (said on the figure; makes "
                        "nearly flat masks look like attention)")


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
    from tqdm import tqdm

    from ..analysis.mask_health import FLAT_CONTRAST, MaskHealthMeter
    from ..data import dataset_info
    from ..data.input_spec import read_input, spec_transform
    from ..engine.common import resolve_device
    from ..viz import record_masks
    from ..viz.recorder import owner_name

    out = Path(args.output)
    per_image = out.suffix.lower() != ".png"
    if per_image and out.suffix:
        raise ValueError(f"--output must be a .png file or a folder, got {out}")
    info = dataset_info(args.dataset) if args.dataset else None
    loaded = _load(args, info)
    model = loaded.model
    # The same preprocessing as `resattn predict`: what the run recorded, the tag's, or --dataset's.
    spec = model_input_spec(loaded, args.checkpoint, args.dataset)
    if args.img_size:
        spec = dataclasses.replace(spec, img_size=args.img_size)
    transform = spec_transform(spec, train=False)
    names = loaded.class_names or (list(info["class_names"]) if info and info["class_names"] else [])

    files = collect_images(args.images)
    if not per_image and len(files) > args.max_images:
        print(f"Drawing the first {args.max_images} of {len(files)} images (--max-images)")
        files = files[: args.max_images]
    device = resolve_device(args.device)
    model = model.to(device)
    draw = dict(overlay=args.overlay, mean=spec.mean, std=spec.std, reduction=args.reduction, stretch=args.stretch)
    png_names = unique_stems(files)
    failed: list[str] = []
    rows: list[tuple[Path, torch.Tensor, dict[str, torch.Tensor], str]] = []  # kept for the figure / sheet
    batch = 32
    # the meter measures every mask's spatial contrast over all the images, for the flat-mask verdict
    with MaskHealthMeter(model) as meter:
        bar = tqdm(total=len(files), desc="masks", unit="img", disable=len(files) <= batch or None)
        for start in range(0, len(files), batch):
            chunk, inputs = [], []
            for f in files[start : start + batch]:
                try:
                    inputs.append(read_input(str(f), spec, transform))
                    chunk.append(f)
                except ValueError as err:
                    failed.append(f"{f}: {err}")
                    print(f"skipped {f}: {err}")
            bar.update(len(files[start : start + batch]))
            if not inputs:
                continue
            x = torch.stack(inputs)
            logits, masks = record_masks(model, x.to(device), args.modules)
            masks = {k: v.cpu() for k, v in masks.items()}
            top_p, top_i = logits.float().softmax(dim=1).max(dim=1)
            for j, (f, p, i) in enumerate(zip(chunk, top_p.tolist(), top_i.tolist(), strict=True)):
                label = names[i] if i < len(names) else f"class {i}"
                title = f"{f.name}\n{label} ({100 * p:.0f}%)"
                one = {k: v[j : j + 1] for k, v in masks.items()}
                if per_image:
                    _write_figure(x[j : j + 1], one, [title], out / f"{png_names[f]}_masks.png", draw)
                if len(rows) < args.max_images:
                    rows.append((f, x[j], one, title))
        bar.close()
    if not rows:
        raise ValueError(f"None of the {len(files)} images could be read")
    sheet = out / "contact_sheet.png" if per_image else out
    _write_figure(torch.stack([r[1] for r in rows]), {k: torch.cat([r[2][k] for r in rows]) for k in rows[0][2]},
                  [r[3] for r in rows], sheet, draw)
    drawn = len(files) - len(failed)
    where = f"{drawn} overlay PNGs and {sheet.name} in {out}" if per_image else str(out)
    print(f"Wrote {where} ({drawn} images x {len(rows[0][2])} masks of {loaded.name}; "
          f"{'each map stretched to its own range' if args.stretch else 'one colour scale for every map'})")
    drawn_modules = {owner_name(k) for k in rows[0][2]}
    flat = [k for k, v in meter.summary().items() if k in drawn_modules and v["contrast_median"] < FLAT_CONTRAST]
    if flat:
        print(f"FLAT masks (median per-channel spatial std of M below {FLAT_CONTRAST} over these images): "
              f"{', '.join(flat)}; they scale channels but do not say where to look")
    if failed:
        print(f"{len(failed)} of {len(files)} images could not be read", file=sys.stderr)
        return 1
    return 0


def unique_stems(files: list[Path]) -> dict[Path, str]:
    """A distinct output name per image: its stem, prefixed by its folder where stems repeat (class folders often
    hold files of the same name), numbered as a last resort."""
    stems = [f.stem for f in files]
    names = {f: f.stem if stems.count(f.stem) == 1 else f"{f.parent.name}_{f.stem}" for f in files}
    seen: dict[str, int] = {}
    for f in files:
        count = seen[names[f]] = seen.get(names[f], 0) + 1
        if count > 1:
            names[f] = f"{names[f]}_{count}"
    return names


def _write_figure(x: torch.Tensor, masks: dict[str, torch.Tensor], titles: list[str], path: Path,
                  draw: dict[str, Any]) -> None:
    from ..viz import mask_grid

    mask_grid(x, masks, titles, path=path, **draw)
