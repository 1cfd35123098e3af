"""``resattn serve``: a local web page (and JSON API) with a model's predictions and the mask of every module."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

DEFAULT_MODEL = "attention56_cifar.fmnist"  # the released weights: `resattn serve` alone shows a trained network


def add_serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", help="training checkpoint (best.pt, last.pt) or .safetensors written by resattn")
    p.add_argument("--model", help=f"zoo name (with --pretrained: a pretrained tag); default with neither option: "
                                   f"{DEFAULT_MODEL} --pretrained")
    p.add_argument("--pretrained", action="store_true", help="load the released weights of --model")
    p.add_argument("--ema", action="store_true", help="use the EMA weights of a training checkpoint")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1 or auto")
    p.add_argument("--dataset", help="preprocessing preset and class names (default: what the checkpoint's run "
                                     "recorded, or the tag's), as for `resattn predict`")
    p.add_argument("--img-size", type=int, help="input size (default: the one the model was trained at)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1,
                   help="inference workers, each with its own copy of the model (default 1: lowest latency)")
    p.add_argument("--threads", type=int, help="torch intra-op threads (default: CPU cores / workers)")
    p.add_argument("--max-waiting", type=int, default=8, help="requests that may wait for a worker; more get 503")
    p.add_argument("--max-upload-mb", type=float, default=10.0, help="largest request body in MiB (413 above)")
    p.add_argument("--max-pixels", type=int, default=25_000_000, help="largest image, width x height (413 above)")
    p.add_argument("--fast-predict", action="store_true",
                   help="answer /api/predict with the compiled, weight-frozen model (compiles at start-up; the "
                        "masks always run eager)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])


def weights_line(args: argparse.Namespace) -> str:
    """Where the weights come from, in words, for the page's header."""
    if args.checkpoint:
        return f"{'EMA weights of ' if args.ema else ''}checkpoint {args.checkpoint}"
    if args.pretrained:
        return f"released weights {args.model}"
    return "random initialisation (no --pretrained or --checkpoint)"


def run_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..serve import Limits, ModelService, create_app
    except ImportError as err:
        print(f"resattn serve: needs the serve extra ({err.name} is missing): pip install \"resattn[serve]\"",
              file=sys.stderr)
        return 2
    import torch

    from ..engine.common import resolve_device
    from ..engine.restore import load_model
    from .evaluate import model_input_spec

    if args.checkpoint is None and args.model is None:
        args.model, args.pretrained = DEFAULT_MODEL, True
    if args.workers < 1:
        raise ValueError(f"--workers must be at least 1, got {args.workers}")
    # Workers run side by side: more intra-op threads than cores would make them spin-wait on each other.
    torch.set_num_threads(args.threads or max(1, (os.cpu_count() or 1) // args.workers))
    limits = Limits(max_body_bytes=int(args.max_upload_mb * 1024 * 1024), max_pixels=args.max_pixels,
                    max_waiting=args.max_waiting)
    loaded = load_model(args.checkpoint, args.model, args.pretrained, which="ema" if args.ema else "model")
    spec = model_input_spec(loaded, args.checkpoint, args.dataset)  # the preprocessing of `resattn predict`
    if args.img_size:
        spec = dataclasses.replace(spec, img_size=args.img_size)
    if args.fast_predict:
        print("Compiling the fast predict path (a minute or more on a CPU)...", flush=True)
    service = ModelService(loaded, weights_line(args), resolve_device(args.device), args.workers, spec, limits,
                           fast_predict=args.fast_predict)
    print(f"resattn serve: {loaded.name} ({service.weights}) on http://{args.host}:{args.port}  "
          f"(API docs: /docs; Ctrl-C stops)", flush=True)
    uvicorn.run(create_app(service), host=args.host, port=args.port, log_level=args.log_level)
    return 0
