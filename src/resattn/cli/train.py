"""``resattn train``: timm-style flags over ``resattn.engine.train``; recipes are YAML files of the same flags."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import types
import typing
from typing import Any

import yaml

from ..engine.config import MODEL, TrainConfig, load_yaml
from ..recipes import find_recipe


def add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-c", "--config", metavar="RECIPE",
                   help="YAML recipe (keys = these flags): a file, or a recipe shipped in the package by name, e.g. "
                        "cifar10_attention92_cifar (the files are in configs/)")
    groups: dict[str, Any] = {}  # --help group title -> argparse group, in the fields' order
    hints = typing.get_type_hints(TrainConfig)
    for f in dataclasses.fields(TrainConfig):
        if f.metadata["group"] not in groups:
            groups[f.metadata["group"]] = p.add_argument_group(f.metadata["group"])
        names, kwargs = _flag(f, hints[f.name])
        groups[f.metadata["group"]].add_argument(*names, **kwargs)
    # Shortcuts into --model-kwargs: options of the attention networks, not of every model
    g = groups[MODEL]
    g.add_argument("--naive-attention", action="store_true", default=None,
                   help="naive attention learning H = M * T (paper Eq. 1) instead of (1 + M) * T")
    g.add_argument("--mask-act", choices=["mixed", "channel", "spatial"], help="soft-mask activation (paper Eq. 4-6)")
    g.add_argument("--mask-type", choices=["encoder_decoder", "local_conv"], help="soft-mask structure (Table 4)")


def _flag(f: dataclasses.Field, hint: Any) -> tuple[list[str], dict[str, Any]]:
    """The argparse flag of a TrainConfig field: ``--name-with-dashes``, typed from the annotation. Its default is
    None, so that only what the command line gives overrides the recipe and the field's default."""
    meta = f.metadata
    names = ([meta["short"]] if "short" in meta else []) + [f"--{f.name.replace('_', '-')}"]
    kwargs: dict[str, Any] = dict(default=None, help=_help(meta["help"], f), choices=meta.get("choices"))
    if "metavar" in meta:
        kwargs["metavar"] = meta["metavar"]
    if isinstance(hint, types.UnionType):  # X | None -> X
        hint = next(t for t in typing.get_args(hint) if t is not type(None))
    base = typing.get_origin(hint) or hint
    if "parse" in meta:
        kwargs["type"] = meta["parse"]
    elif base is bool:
        kwargs["action"] = argparse.BooleanOptionalAction
    elif base is list:
        kwargs.update(type=typing.get_args(hint)[0], nargs="+")
    elif base is dict:
        kwargs["type"] = _mapping
    else:
        kwargs["type"] = base
    return names, kwargs


def _help(text: str, f: dataclasses.Field) -> str:
    """``text`` with the field's default, unless the text says it already (or there is none to say)."""
    default = f.default_factory() if f.default is dataclasses.MISSING else f.default
    if "default" not in text and default not in (None, [], {}):
        if isinstance(default, bool):
            default = "on" if default else "off"
        elif isinstance(default, float):
            default = f"{default:g}"
        text = f"{text} (default {default})"
    return text.replace("%", "%%")  # argparse formats help strings with %


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
