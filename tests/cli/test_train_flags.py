"""`resattn train`'s flags come from TrainConfig: every field a flag, typed and grouped; recipes parse into it."""

import argparse
import dataclasses
import types
import typing

import pytest

from resattn.cli.train import add_train_args, resolve_train_config
from resattn.engine.config import TrainConfig
from resattn.recipes import recipe_names

# The flags `resattn train` has always had: scripts, recipes and the docs use them.
FLAGS = """--config --model --model-kwargs --naive-attention --mask-act --mask-type --drop-rate --grad-checkpointing
--dataset --data-dir --download --val-split --img-size --label-noise --workers --augment --random-erasing --in-chans
--preset --skip-bad-images --pretrained --initial-checkpoint --epochs --iters --batch-size --grad-accum --lr --momentum
--nesterov --weight-decay --mask-weight-decay --sched --milestones --lr-gamma --warmup-iters --label-smoothing
--ema-decay --device --amp --channels-last --compile --seed --output --resume --eval-interval --save-interval
--log-interval --progress --test""".split()
BOOLEANS = ["grad_checkpointing", "download", "augment", "skip_bad_images", "nesterov", "channels_last", "compile",
            "test"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_train_args(parser)
    return parser


def _fits(value, hint) -> bool:
    """Whether a value has the type a TrainConfig field declares."""
    if isinstance(hint, types.UnionType):
        return any(_fits(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    origin = typing.get_origin(hint) or hint
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_fits(v, item) for v in value)
    if origin is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if origin is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, origin)


def test_every_field_is_a_flag_and_every_flag_stays():
    parser = _parser()
    options = {name for action in parser._actions for name in action.option_strings}
    assert set(FLAGS) <= options
    assert "-b" in options and "-c" in options
    dests = {action.dest for action in parser._actions}
    assert {f.name for f in dataclasses.fields(TrainConfig)} <= dests
    assert {f"--no-{name.replace('_', '-')}" for name in BOOLEANS} <= options


def test_help_lists_every_flag_in_its_group_with_its_default(capsys):
    with pytest.raises(SystemExit):
        _parser().parse_args(["--help"])
    text = capsys.readouterr().out
    for flag in FLAGS:
        assert flag in text, flag
    groups = ["model:", "data:", "image folders", "fine-tuning", "optimisation:", "execution:", "run folder:"]
    positions = [text.index(g) for g in groups]
    assert positions == sorted(positions)
    assert "(default 5000)" in text and "(default on)" in text and "{multistep,cosine,constant}" in text


def test_flags_parse_into_the_field_types():
    cfg = resolve_train_config(["--val-split", "100", "--milestones", "10", "0.5", "--no-nesterov", "-b", "8",
                                "--model-kwargs", "{mask_act: spatial}", "--in-chans", "1", "--iters", "7"])
    assert (cfg.val_split, cfg.milestones, cfg.nesterov, cfg.batch_size) == (100, [10.0, 0.5], False, 8)
    assert isinstance(cfg.val_split, int)
    assert (cfg.model_kwargs, cfg.in_chans, cfg.iters, cfg.epochs) == ({"mask_act": "spatial"}, 1, 7, None)
    hints = typing.get_type_hints(TrainConfig)
    for f in dataclasses.fields(TrainConfig):
        assert _fits(getattr(cfg, f.name), hints[f.name]), f.name


@pytest.mark.parametrize(("given", "expected"), [("5000", 5000), ("5000.0", 5000), ("0.1", 0.1)])
def test_val_split_is_a_count_of_images_or_a_fraction(given, expected):
    value = resolve_train_config(["--val-split", given]).val_split
    assert value == expected and type(value) is type(expected)


def test_choices_are_enforced(capsys):
    with pytest.raises(SystemExit):
        _parser().parse_args(["--sched", "linear"])
    assert "invalid choice: 'linear'" in capsys.readouterr().err


@pytest.mark.parametrize("name", recipe_names())
def test_every_shipped_recipe_parses_into_a_train_config(name):
    cfg = resolve_train_config(["-c", name])
    assert (cfg.epochs is None) != (cfg.iters is None)  # the length of the run, given once
    hints = typing.get_type_hints(TrainConfig)
    for f in dataclasses.fields(TrainConfig):
        assert _fits(getattr(cfg, f.name), hints[f.name]), (name, f.name, getattr(cfg, f.name))


def test_the_command_line_overrides_the_recipe():
    cfg = resolve_train_config(["-c", "cifar10_attention92_cifar", "--lr", "0.05", "--epochs", "2"])
    assert (cfg.lr, cfg.batch_size, cfg.epochs, cfg.iters) == (0.05, 64, 2.0, None)
