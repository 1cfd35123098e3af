"""``resattn validate`` and ``resattn predict``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from ..export import OnnxModel

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


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
    from ..engine.restore import load_model
    from ..engine.trainer import resolve_device

    loaded = load_model(args.checkpoint, args.model, args.pretrained, which="ema" if args.ema else "model")
    device = resolve_device(args.device)
    return loaded, device


def evaluation_data(loaded, dataset: str | None, data_dir: str | None, split: str, img_size: int | None = None,
                    crop_pct: float | None = None):
    """The dataset name and the eval-transformed ``split`` ("train", "val" = carved from train with the checkpoint's
    seed, "test" = the held-out set) for a loaded model."""
    from ..data import create_dataset, create_transform, dataset_info, train_val_split
    from ..engine.trainer import test_split_name

    dataset = dataset or loaded.dataset
    if dataset is None:
        raise ValueError("This model does not say which dataset it was trained on; pass --dataset")
    info = dataset_info(dataset)
    tf = create_transform(info["transform_preset"], train=False, img_size=img_size or info["image_size"],
                          crop_pct=crop_pct)
    if split == "val":
        cfg = loaded.config
        if not cfg:
            raise ValueError("--split val needs a training checkpoint (it holds the seed of the split)")
        full = create_dataset(dataset, data_dir or cfg.get("data_dir"), "train")
        _, data = train_val_split(full, cfg["val_split"], cfg["seed"], train_transform=tf, val_transform=tf)
    else:  # "test" is ImageNet's val/ folder: the held-out set the paper reports on
        split = test_split_name(info, data_dir) if split == "test" else split
        data = create_dataset(dataset, data_dir, split, transform=tf)
    return dataset, info, data


def run_validate(args: argparse.Namespace) -> int:
    from ..engine.loop import evaluate
    from ..engine.trainer import AMP_DTYPES, eval_loader

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
    p.add_argument("images", nargs="+", help="image files or folders")
    _add_model_source(p)
    p.add_argument("--onnx", metavar="FILE",
                   help="run this ONNX file (from `resattn export`) in onnxruntime instead of a PyTorch model")
    p.add_argument("--dataset", help="preprocessing preset and class names (default: the checkpoint's or the "
                                     "ONNX file's metadata)")
    p.add_argument("--img-size", type=int)
    p.add_argument("--topk", type=int, default=3)
    p.add_argument("--json", action="store_true", help="one JSON object per image instead of text")


def collect_images(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"{p} does not exist")
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


def _load_onnx_for_predict(args: argparse.Namespace) -> tuple[OnnxModel, str]:
    """The ONNX model of ``--onnx`` and its dataset (``--dataset`` or the file's metadata)."""
    from ..export import load_onnx

    if args.checkpoint or args.model:
        raise ValueError("--onnx replaces --checkpoint / --model: pass one or the other")
    onnx_model = load_onnx(args.onnx)
    dataset = args.dataset or onnx_model.dataset
    if dataset is None:  # the preprocessing (size, normalisation) is the dataset's: never guess it
        raise ValueError(f"{args.onnx} does not name its dataset in its metadata; pass --dataset")
    return onnx_model, dataset


def run_predict(args: argparse.Namespace) -> int:
    from ..data import create_transform, dataset_info

    forward: Callable[[torch.Tensor], torch.Tensor]
    if args.onnx:
        onnx_model, dataset = _load_onnx_for_predict(args)
        forward, in_chans, class_names = onnx_model, onnx_model.in_chans, onnx_model.class_names
        fixed = onnx_model.fixed_size  # a static graph takes only its export size
        default_size = fixed[0] if fixed and fixed[0] == fixed[1] else None
    else:
        loaded, device = _load(args)
        dataset = args.dataset or loaded.dataset
        model, in_chans, class_names = loaded.model.to(device), loaded.model.in_chans, loaded.class_names
        default_size = None if dataset else model.pretrained_cfg["input_size"][-1]

        def forward(x: torch.Tensor) -> torch.Tensor:
            return model(x.to(device))

    info = dataset_info(dataset) if dataset else None
    preset = info["transform_preset"] if info else "imagenet"
    size = args.img_size or default_size or info["image_size"]
    transform = create_transform(preset, train=False, img_size=size)
    names = class_names or (list(info["class_names"]) if info and info["class_names"] else [])
    for path in collect_images(args.images):
        x = image_to_input(path, in_chans, preset, size, transform)[None]
        with torch.no_grad():
            probs = forward(x).float().softmax(dim=1)[0]
        top = probs.topk(min(args.topk, probs.numel()))
        preds = [dict(label=names[i] if i < len(names) else str(i), index=i, prob=round(p, 4))
                 for p, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)]
        if args.json:
            print(json.dumps(dict(image=str(path), predictions=preds)))
        else:
            print(f"{path}: " + ", ".join(f"{p['label']} {100 * p['prob']:.1f}%" for p in preds))
    return 0
