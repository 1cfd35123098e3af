"""``resattn validate`` and ``resattn predict``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from ..data.input_spec import InputSpec
    from ..engine.predict import Prediction


def _add_model_source(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", help="training checkpoint (best.pt, last.pt) or .safetensors written by resattn")
    p.add_argument("--model", help="zoo name (with --pretrained: a pretrained tag such as NAME.TAG)")
    p.add_argument("--pretrained", action="store_true", help="load the released weights of --model")
    p.add_argument("--ema", action="store_true", help="use the EMA weights of a training checkpoint")
    p.add_argument("--device", default="auto")


def add_validate_args(p: argparse.ArgumentParser) -> None:
    _add_model_source(p)
    p.add_argument("--dataset", help="dataset name (default: the checkpoint's)")
    p.add_argument("--data-dir")
    p.add_argument("--split", default="test", choices=["train", "val", "test"],
                   help="val = the validation split carved from train with the checkpoint's seed")
    p.add_argument("--img-size", type=int, help="evaluation size (e.g. 320 for Attention-92 as in the paper)")
    p.add_argument("--crop-pct", type=float, help="centre-crop fraction of the imagenet preset")
    p.add_argument("-b", "--batch-size", type=int, default=256)
    p.add_argument("--amp", default="none", choices=["none", "bf16", "fp16"])
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--results-file", help="write top1 / top5 (percent) and the settings as JSON")


def _load(args: argparse.Namespace):
    from ..engine.common import resolve_device
    from ..engine.restore import load_model

    loaded = load_model(args.checkpoint, args.model, args.pretrained, which="ema" if args.ema else "model")
    device = resolve_device(args.device)
    return loaded, device


def run_validate(args: argparse.Namespace) -> int:
    from ..engine.common import AMP_DTYPES, eval_loader, evaluation_data
    from ..engine.loop import evaluate

    loaded, device = _load(args)
    dataset, info, data = evaluation_data(loaded, args.dataset, args.data_dir, args.split, args.img_size,
                                          args.crop_pct)
    model = loaded.model.to(device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    metrics = evaluate(model, eval_loader(data, args.batch_size, args.workers), device, AMP_DTYPES[args.amp],
                       args.channels_last)
    results = dict(model=loaded.name, checkpoint=args.checkpoint, dataset=dataset, split=args.split,
                   img_size=args.img_size or info["image_size"], top1=round(metrics["top1"], 3),
                   top5=round(metrics["top5"], 3), loss=round(metrics["loss"], 5), images=metrics["images"])
    print(f"{loaded.name} on {dataset}/{args.split}: top-1 {results['top1']:.2f}%  top-5 {results['top5']:.2f}%  "
          f"({results['images']} images)")
    if args.results_file:
        Path(args.results_file).write_text(json.dumps(results, indent=2))
    return 0


def add_predict_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", help="image files, folders (searched recursively) or glob patterns "
                                             "(quote them: 'photos/**/*.jpg')")
    _add_model_source(p)
    p.add_argument("--onnx", metavar="FILE",
                   help="run this ONNX file (from `resattn export`) in onnxruntime instead of a PyTorch model")
    p.add_argument("--dataset", help="preprocessing preset and class names (default: the checkpoint's or the "
                                     "ONNX file's metadata)")
    p.add_argument("--img-size", type=int)
    p.add_argument("--topk", type=int, default=3)
    p.add_argument("-b", "--batch-size", type=int, default=64, help="images per forward pass (default 64)")
    p.add_argument("--output", "-o", metavar="FILE",
                   help="write the predictions to FILE: .csv (path, class1, prob1, ..., error) or .json")
    p.add_argument("--json", action="store_true", help="one JSON object per image instead of text (on stdout)")


def collect_images(paths: list[str]) -> list[Path]:
    """Image files of ``paths`` (files, folders, globs); any argument that names nothing is an error."""
    from ..data.image_files import find_images

    files, problems = find_images(paths)
    if problems:
        raise FileNotFoundError("; ".join(f"{path}: {reason}" for path, reason in problems))
    if not files:
        raise ValueError(f"No images found in {', '.join(paths)}")
    return files


def image_to_input(path: Path, in_chans: int, preset: str, size: int, transform) -> torch.Tensor:
    """Read one image the way the training data looked: grayscale or RGB, the dataset's size, its normalisation."""
    from PIL import Image, UnidentifiedImageError
    from torchvision.transforms.functional import pil_to_tensor

    try:
        with Image.open(path) as img:
            img = img.convert("L" if in_chans == 1 else "RGB")
            if preset == "imagenet":
                return transform(img)
            img = img.resize((size, size), Image.BILINEAR)  # small-image presets only normalise
            return transform(pil_to_tensor(img))
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"Cannot read image {path}: {err}") from err


def _onnx_source(args: argparse.Namespace) -> tuple[Callable[[torch.Tensor], torch.Tensor], InputSpec, list[str]]:
    """The ONNX model of ``--onnx``, the input it expects (``--dataset`` or the file's metadata) and class names."""
    from ..data.input_spec import InputSpec, spec_for_dataset
    from ..export import load_onnx

    if args.checkpoint or args.model:
        raise ValueError("--onnx replaces --checkpoint / --model: pass one or the other")
    onnx_model = load_onnx(args.onnx)
    recorded = onnx_model.metadata.get("input_spec")
    dataset = args.dataset or onnx_model.dataset
    if recorded and not args.dataset:
        spec = InputSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(recorded).items()})
    elif dataset and dataset != "folder":
        fixed = onnx_model.fixed_size  # a static graph takes only its export size
        size = fixed[0] if fixed and fixed[0] == fixed[1] else None
        spec = spec_for_dataset(dataset, onnx_model.in_chans, size)
    else:  # the preprocessing (size, normalisation) is the training data's: never guess it
        raise ValueError(f"{args.onnx} does not record how its input images were prepared; pass --dataset, or "
                         f"predict with the run's best.pt")
    return onnx_model, spec, onnx_model.class_names


def model_input_spec(loaded, checkpoint: str | None, dataset: str | None) -> InputSpec:
    """How images are prepared for a loaded model: ``--dataset``'s preset if given, else what the checkpoint's run
    recorded, else the released tag's or zoo model's own configuration."""
    from ..data.input_spec import spec_for_dataset
    from ..engine.recorded_input import config_beside, recorded_spec, spec_from_pretrained_cfg

    in_chans = int(loaded.model.in_chans)
    if dataset:
        return spec_for_dataset(dataset, in_chans)
    if checkpoint:
        config = loaded.config or config_beside(checkpoint)  # a run's best.safetensors: its config.yaml
        spec = recorded_spec(loaded.dataset, config, in_chans)
        if spec is None:
            raise ValueError(f"{checkpoint} does not record how its training images were prepared; use the run's "
                             f"best.pt, keep config.yaml beside the .safetensors file, or pass --dataset")
        return spec
    return spec_from_pretrained_cfg(dict(loaded.model.pretrained_cfg), in_chans)


def _torch_source(args: argparse.Namespace) -> tuple[Callable[[torch.Tensor], torch.Tensor], InputSpec, list[str]]:
    """The PyTorch model of ``--checkpoint`` / ``--model``, the input it expects, and its class names."""
    loaded, device = _load(args)
    model = loaded.model.to(device)
    spec = model_input_spec(loaded, args.checkpoint, args.dataset)

    def forward(x: torch.Tensor) -> torch.Tensor:
        return model(x.to(device))

    return forward, spec, loaded.class_names


def _print_rows(rows: list[Prediction], as_json: bool) -> None:
    for row in rows:
        if row.error is not None:
            continue
        preds = [dict(label=lab, index=i, prob=round(p, 4)) for lab, i, p in zip(row.labels, row.indices, row.probs)]
        if as_json:
            print(json.dumps(dict(image=row.path, predictions=preds)))
        else:
            print(f"{row.path}: " + ", ".join(f"{p['label']} {100 * p['prob']:.1f}%" for p in preds))


def run_predict(args: argparse.Namespace) -> int:
    from ..data.image_files import find_images
    from ..engine.predict import predict_files, write_predictions

    if args.topk < 1 or args.batch_size < 1:
        raise ValueError("--topk and --batch-size must be at least 1")
    if args.output and Path(args.output).suffix.lower() not in (".csv", ".json"):
        raise ValueError(f"--output {args.output}: the results file must end in .csv or .json")
    forward, spec, class_names = _onnx_source(args) if args.onnx else _torch_source(args)
    if args.img_size:
        spec = dataclasses.replace(spec, img_size=args.img_size)
    if args.dataset and not class_names:
        from ..data import dataset_info

        class_names = list(dataset_info(args.dataset)["class_names"] or [])
    files, problems = find_images(args.images)
    for path, reason in problems:
        print(f"resattn predict: {path}: {reason}", file=sys.stderr)
    if not files:
        raise ValueError(f"No image files in {', '.join(args.images)}")

    def report(row: Prediction) -> None:
        print(f"resattn predict: {row.error}", file=sys.stderr)  # the error names the file

    progress = sys.stderr.isatty() and len(files) > args.batch_size  # a bar only where there is something to wait for
    rows = predict_files(forward, files, spec, class_names, args.topk, args.batch_size, progress, report)
    unreadable = sum(row.error is not None for row in rows)
    failed = unreadable + len(problems)
    if args.output:
        about = dict(model=args.model or args.checkpoint or args.onnx, input=spec.describe(), class_names=class_names)
        out = write_predictions(rows, args.output, args.topk, about)
        print(f"wrote {len(rows)} rows to {out}: {len(rows) - unreadable} predicted, {unreadable} unreadable "
              f"({spec.describe()})")
    else:
        _print_rows(rows, args.json)
    if failed:
        print(f"resattn predict: {failed} of {len(rows) + len(problems)} inputs could not be read (listed above)",
              file=sys.stderr)
    return 1 if failed else 0
