"""``resattn list`` and ``resattn info``."""

from __future__ import annotations

import argparse

from ..models.factory import check_model_name, create_model, list_models
from ..models.paper_numbers import PAPER_NUMBERS
from ..utils.complexity import count_macs, count_params


def add_list_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("filter", nargs="?", default="", help="substring or pattern, e.g. cifar or 'attention5*'")
    parser.add_argument("--table", action="store_true",
                        help="markdown table with params and GMACs at each model's default size, beside the paper")
    parser.add_argument("--pretrained", action="store_true",
                        help="the released weights (NAME.TAG, for --model with --pretrained) and what they measured")


def _mask_summary(health: dict) -> str:
    """Whether a release's masks say where to look: flat stages, and the top-1 their spatial structure is worth."""
    flat = health["flat_stages"]
    state = f"flat in {', '.join(flat)}" if flat else "alive in every stage"
    return f"{state}; spatial structure worth {health['top1_drop_spatial_mean_all']:.2f} points"


def run_list(args: argparse.Namespace) -> int:
    if args.pretrained:
        from ..models.released import RELEASED

        print("| tag | dataset | input | test top-1 % | test top-5 % | soft masks (test split) | recipe |")
        print("|---|---|---|---|---|---|---|")
        for tag, rel in RELEASED.items():
            if args.filter in tag:
                size = "x".join(map(str, rel["input_size"]))
                print(f"| `{tag}` | {rel['dataset']} | {size} | {rel['test_top1']} | {rel['test_top5']} | "
                      f"{_mask_summary(rel['mask_health'])} | {rel['recipe']} |")
        return 0
    names = list_models(args.filter)
    if not names:
        raise ValueError(f"No model matches {args.filter!r}")
    if not args.table:
        print("\n".join(names))
        return 0
    print("| model | input | params | GMACs | min input | paper |")
    print("|---|---|---|---|---|---|")
    for name in names:
        model = create_model(name)
        size = model.pretrained_cfg["input_size"]
        params, macs = count_params(model), count_macs(model, size)
        paper = PAPER_NUMBERS.get(name)
        ref = f"{paper['params_m']} M" + (f", {paper['gmacs']} G" if "gmacs" in paper else "") if paper else ""
        print(f"| `{name}` | {size[-1]} | {params:,} | {macs / 1e9:.3f} | {model.min_input_size} | {ref} |")
    return 0


def add_info_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="model name (see `resattn list`)")
    parser.add_argument("--img-size", type=int, default=None, help="input side (default: the model's default)")
    parser.add_argument("--in-chans", type=int, default=None, help="input channels (default: the model's default)")
    parser.add_argument("--num-classes", type=int, default=None, help="classifier outputs (default: the model's)")


def run_info(args: argparse.Namespace) -> int:
    arch = check_model_name(args.model)
    kwargs = {k: v for k, v in (("in_chans", args.in_chans), ("num_classes", args.num_classes)) if v is not None}
    model = create_model(args.model, **kwargs)
    chans, default_size = model.in_chans, model.pretrained_cfg["input_size"][-1]
    size = args.img_size or default_size
    if size < model.min_input_size:
        raise ValueError(f"--img-size {size} is below this model's minimum input size {model.min_input_size}")
    params, macs = count_params(model), count_macs(model, (chans, size, size))
    rows = [
        ("model", args.model),
        ("input", f"{chans}x{size}x{size}"),
        ("classes", str(model.num_classes)),
        ("params", f"{params:,} ({params / 1e6:.2f} M)"),
        ("GMACs", f"{macs / 1e9:.3f} (multiply-adds of convs and FC; the paper's 'FLOPs')"),
        ("min input", f"{model.min_input_size}x{model.min_input_size}"),
    ]
    paper = PAPER_NUMBERS.get(arch)
    if paper:
        text = f"{paper['params_m']} M params"
        if "gmacs" in paper:
            text += f", {paper['gmacs']} GMACs at {paper['img_size']}"
        rows.append(("paper", f"{text} ({paper['source']})"))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0
