"""The ``resattn`` command: a thin argparse layer over the package; each command lives in its own module."""

from __future__ import annotations

import argparse
import importlib
import sys

from ..engine.checkpoint import CheckpointError

# command -> (module under resattn.cli, one-line help). Each module keeps its heavy imports inside run_<command>.
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("zoo", "list the models in the zoo"),
    "info": ("zoo", "parameters and multiply-adds of a model, beside the paper's numbers"),
    "train": ("train", "train a model (default: an attention network on Fashion-MNIST)"),
    "validate": ("evaluate", "top-1 / top-5 of a checkpoint or pretrained model on a dataset split"),
    "predict": ("evaluate", "top-k classes of image files or folders"),
    "export": ("export", "export a model to ONNX (checked in onnxruntime) or a torch.export program"),
    "visualize": ("visualize", "draw the soft-mask maps of a model over images (paper Fig. 1)"),
    "benchmark": ("benchmark", "latency, throughput and memory beside ResNet-50/152 and ResNet-164 in the same run"),
    "reproduce": ("reproduce", "the paper's tables (1, 3, 4, 5) and Fig. 4 as resumable training grids"),
    "analyze": ("analyze", "analyses of trained networks: `analyze response` is paper Fig. 4"),
    "serve": ("serve", "a local web page and JSON API: predictions and the soft mask of every Attention Module"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="resattn", description="Residual Attention Networks for PyTorch and timm")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        mod = importlib.import_module(f"resattn.cli.{module}")
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        getattr(mod, f"add_{name}_args")(cmd)
        cmd.set_defaults(run=getattr(mod, f"run_{name}"))
    return parser


def _version() -> str:
    from resattn import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except (ValueError, FileNotFoundError, CheckpointError) as err:  # user errors: one clear line, no traceback
        print(f"resattn {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"resattn {args.command}: interrupted", file=sys.stderr)
        return 130
