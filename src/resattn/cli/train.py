"""``resattn train``: timm-style flags over ``resattn.engine.train``; recipes are YAML files of the same flags."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import yaml

from ..engine.config import TrainConfig, load_yaml
from ..recipes import find_recipe

_BOOL = dict(action=argparse.BooleanOptionalAction, default=None)


def add_train_args(p: argparse.ArgumentParser) -> None:
    d = TrainConfig()
    p.add_argument("-c", "--config", metavar="RECIPE",
                   help="YAML recipe (keys = these flags): a file, or a recipe shipped in the package by name, e.g. "
                        "cifar10_attention92_cifar (the files are in configs/)")
    g = p.add_argument_group("model")
    g.add_argument("--model", help=f"model name (default {d.model}; see `resattn list`)")
    g.add_argument("--model-kwargs", type=_mapping, help="model arguments as YAML, e.g. '{mask_act: spatial}'")
    g.add_argument("--naive-attention", action="store_true", default=None,
                   help="naive attention learning H = M * T (paper Eq. 1) instead of (1 + M) * T")
    g.add_argument("--mask-act", choices=["mixed", "channel", "spatial"], help="soft-mask activation (paper Eq. 4-6)")
    g.add_argument("--mask-type", choices=["encoder_decoder", "local_conv"], help="soft-mask structure (Table 4)")
    g.add_argument("--drop-rate", type=float)
    g.add_argument("--grad-checkpointing", **_BOOL)
    g = p.add_argument_group("data")
    g.add_argument("--dataset", help=f"fashion_mnist | cifar10 | cifar100 | imagenet | folder | fake "
                                     f"(default {d.dataset})")
    g.add_argument("--data-dir", help="dataset root (Fashion-MNIST: $RESATTN_DATA or the Debian package's files)")
    g.add_argument("--download", **_BOOL)
    g.add_argument("--val-split", type=float, help=f"validation images carved from train (default {d.val_split:g})")
    g.add_argument("--img-size", type=int)
    g.add_argument("--label-noise", type=float, help="training-label noise rate 1 - r (paper Table 5)")
    g.add_argument("--workers", type=int)
    g.add_argument("--augment", **_BOOL)
    g.add_argument("--random-erasing", type=float, help="probability of erasing a random rectangle of each training "
                                                        "image (Fashion-MNIST and CIFAR presets; default 0)")
    g = p.add_argument_group("image folders (--dataset folder --data-dir DIR: DIR/train/<class>/* or DIR/<class>/*)")
    g.add_argument("--in-chans", type=int, choices=[1, 3], help="1 = grayscale, 3 = colour (default: detected)")
    g.add_argument("--preset", choices=["small", "large"],
                   help="small = CIFAR-style, large = ImageNet-style (default: from the images' size)")
    g.add_argument("--skip-bad-images", **_BOOL, help="leave unreadable files out (default: list them and stop)")
    g = p.add_argument_group("fine-tuning (see configs/finetune.yaml)")
    g.add_argument("--pretrained", metavar="TAG", help="start from released weights, e.g. attention56_cifar.fmnist")
    g.add_argument("--initial-checkpoint", metavar="PATH", help="start from a run's best.pt or best.safetensors")
    g = p.add_argument_group("optimisation")
    g.add_argument("--epochs", type=float)
    g.add_argument("--iters", type=int)
    g.add_argument("-b", "--batch-size", type=int, help=f"global mini-batch over all processes (default "
                                                         f"{d.batch_size})")
    g.add_argument("--grad-accum", type=int, help="micro-batches per step")
    g.add_argument("--lr", type=float)
    g.add_argument("--momentum", type=float)
    g.add_argument("--nesterov", **_BOOL)
    g.add_argument("--weight-decay", type=float)
    g.add_argument("--mask-weight-decay", type=float,
                   help="weight decay of the soft-mask branches (default: --weight-decay, as in the paper)")
    g.add_argument("--sched", choices=["multistep", "cosine", "constant"])
    g.add_argument("--milestones", type=float, nargs="+", help="iterations of the LR drops (or fractions < 1)")
    g.add_argument("--lr-gamma", type=float)
    g.add_argument("--warmup-iters", type=int)
    g.add_argument("--label-smoothing", type=float)
    g.add_argument("--ema-decay", type=float)
    g = p.add_argument_group("execution")
    g.add_argument("--device", help="auto | cpu | cuda | cuda:N")
    g.add_argument("--amp", choices=["none", "bf16", "fp16"])
    g.add_argument("--channels-last", **_BOOL)
    g.add_argument("--compile", **_BOOL)
    g.add_argument("--seed", type=int)
    g = p.add_argument_group("run folder")
    g.add_argument("--output", help="run folder (default runs/<model>_<dataset>_<date-time>)")
    g.add_argument("--resume", help="auto (latest checkpoint in --output) or a checkpoint file")
    g.add_argument("--eval-interval", type=int)
    g.add_argument("--save-interval", type=int)
    g.add_argument("--log-interval", type=int)
    g.add_argument("--progress", choices=["auto", "bar", "log", "none"])
    g.add_argument("--test", **_BOOL, help="evaluate the test split once at the end")


def _mapping(text: str) -> dict[str, Any]:
    value = yaml.safe_load(text)
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a mapping like '{{mask_act: spatial}}', got {text!r}")
    return value


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    from ..engine.run_defaults import apply_run_defaults

    cfg = TrainConfig()
    recipe = load_yaml(find_recipe(args.config)) if args.config else {}
    cfg.update(recipe, source=args.config or "the recipe")
    flags = {k: v for k, v in vars(args).items() if v is not None and k not in ("config", "command", "run")}
    given = {k.replace("-", "_") for k in recipe} | set(flags)
    model_kwargs = dict(cfg.model_kwargs)
    model_kwargs.update(flags.pop("model_kwargs", {}))
    if flags.pop("naive_attention", False):
        model_kwargs["attention_residual"] = False
    for key in ("mask_act", "mask_type"):
        if key in flags:
            model_kwargs[key] = flags.pop(key)
    if flags.get("epochs") is not None and flags.get("iters") is None:
        cfg.iters = None
    if flags.get("iters") is not None and flags.get("epochs") is None:
        cfg.epochs = None
    if "val_split" in flags and flags["val_split"] >= 1:
        flags["val_split"] = int(flags["val_split"])
    cfg.update(flags, source="the command line")
    cfg.model_kwargs = model_kwargs
    apply_run_defaults(cfg, given)  # fine-tuning: the source's model; image folders: model from the images' size
    return cfg


def run_train(args: argparse.Namespace) -> int:
    from ..engine.trainer import train

    results = train(config_from_args(args))
    # Under torchrun every process returns the same results; the first one prints them.
    if "test_top1" in results and os.environ.get("RANK", "0") == "0":
        print(json.dumps({k: results[k] for k in ("model", "test_top1", "test_top5", "wall_s")}))
    return 0


def resolve_train_config(argv: list[str]) -> TrainConfig:
    """The TrainConfig that ``resattn train ARGV`` would run (for tests and tools)."""
    parser = argparse.ArgumentParser()
    add_train_args(parser)
    return config_from_args(parser.parse_args(argv))
