"""``resattn export``: a checkpoint or zoo model to ONNX (checked in onnxruntime) or a ``torch.export`` program."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

FORMATS = ("onnx", "pt2")


def add_export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", help="training checkpoint (best.pt, last.pt) or .safetensors written by resattn")
    p.add_argument("--model", help="zoo name (with --pretrained: a pretrained tag such as NAME.TAG)")
    p.add_argument("--pretrained", action="store_true", help="load the released weights of --model")
    p.add_argument("--ema", action="store_true", help="export the EMA weights of a training checkpoint")
    p.add_argument("--format", choices=FORMATS, help="default: from the --output suffix (.onnx or .pt2)")
    p.add_argument("--output", "-o", required=True, help="file to write")
    p.add_argument("--img-size", type=int, help="example input size (default: the dataset's or the model's)")
    p.add_argument("--opset", type=int, help="ONNX opset version, 18 or newer (default: the exporter's)")
    p.add_argument("--static", action="store_true", help="fix the input to 1 x C x img-size x img-size")
    p.add_argument("--fold-bn", action="store_true", help="fold each BatchNorm that follows a conv into it")
    p.add_argument("--no-check", action="store_true", help="skip the comparison with PyTorch after writing")
    # Untrained attention92_cifar exports measured 4e-6 to 1.1e-4 of the scale in five runs, near 7e-4 in another;
    # a wrong export differs by a sizeable fraction of it.
    p.add_argument("--rtol", type=float, default=5e-3,
                   help="largest difference to PyTorch the check accepts, relative to the scale of PyTorch's output "
                        "(its largest |value|, at least 1; an untrained network's logits reach 1e4) (default 5e-3)")


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    suffix = Path(args.output).suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    raise ValueError(f"Cannot tell the format from {args.output!r}; pass --format {' or '.join(FORMATS)}")


def run_export(args: argparse.Namespace) -> int:
    import torch

    from ..data import dataset_info
    from ..engine.restore import load_model
    from ..export import check_inputs, export_onnx, export_pt2, load_onnx, load_pt2, resolve_input_size
    from ..export.parity import compare_outputs

    fmt = _format(args)
    if fmt == "pt2" and args.opset is not None:
        raise ValueError("--opset applies to --format onnx only")
    loaded = load_model(args.checkpoint, args.model, args.pretrained, which="ema" if args.ema else "model")
    model = loaded.model.cpu().eval()
    in_chans = getattr(model, "in_chans", 3)
    size = args.img_size
    if size is None and loaded.dataset:
        size = dataset_info(loaded.dataset)["image_size"]
    input_size = resolve_input_size(model, None if size is None else (in_chans, size, size))
    output = Path(args.output)
    try:
        if fmt == "onnx":
            metadata = {"model": loaded.name}
            if loaded.dataset:
                metadata["dataset"] = loaded.dataset
            if loaded.class_names:
                metadata["class_names"] = json.dumps(loaded.class_names)
            export_onnx(model, output, input_size, args.opset, dynamic=not args.static, metadata=metadata,
                        fold_bn=args.fold_bn)
        else:
            export_pt2(model, output, input_size, dynamic=not args.static, fold_bn=args.fold_bn)
    except ImportError as err:  # optional dependency missing: say how to install it, no traceback
        print(f"resattn export: error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {output} ({fmt}, {loaded.name}, example input {list(input_size)}"
          f"{', static' if args.static else ', dynamic batch / height / width'})")
    if args.no_check:
        return 0

    # Two batch sizes at two resolutions (the second odd and non-square); a static graph takes only its own shape.
    inputs = [torch.randn(1, *input_size)] if args.static else check_inputs(input_size)
    if fmt == "onnx":
        exported, runtime = load_onnx(output), "onnxruntime"
    else:
        exported, runtime = load_pt2(output).module(), "the saved program"
    parity = compare_outputs(model, exported, inputs)
    shapes = ", ".join("x".join(map(str, x.shape)) for x in inputs)
    print(f"checked {runtime} against PyTorch on {shapes}: {parity.describe()}")
    if parity.relative > args.rtol:
        print(f"resattn export: error: the exported model differs from PyTorch by {parity.relative:.3g} of its "
              f"output scale > --rtol {args.rtol:g}", file=sys.stderr)
        return 1
    return 0
