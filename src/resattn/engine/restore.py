"""Rebuild a model for validation, prediction and export from a checkpoint, a weights file or a zoo name."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from ..models.factory import check_model_name, create_model
from .checkpoint import CheckpointError, checkpoint_weights, load_checkpoint, load_safetensors
from .recorded_input import config_beside


@dataclass
class LoadedModel:
    model: nn.Module
    name: str
    dataset: str | None = None
    class_names: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)


def load_state_checked(model: nn.Module, state: dict, path: Path, name: str, args: dict) -> None:
    """``load_state_dict(strict=True)`` with a one-line error that counts what does not fit and names a few keys."""
    ours = model.state_dict()
    missing = [k for k in ours if k not in state]
    unexpected = [k for k in state if k not in ours]
    wrong = [k for k in ours if k in state and tuple(state[k].shape) != tuple(ours[k].shape)]
    if missing or unexpected or wrong:
        parts = [f"{len(keys)} {what} (e.g. {', '.join(keys[:3])})"
                 for what, keys in (("missing keys", missing), ("unexpected keys", unexpected),
                                    ("shape mismatches", wrong)) if keys]
        raise CheckpointError(f"{path} does not fit {name} with {args}: {'; '.join(parts)}")
    model.load_state_dict(state)


def load_model(
    checkpoint: str | Path | None = None,
    model: str | None = None,
    pretrained: bool = False,
    which: str = "model",
    **model_kwargs: Any,
) -> LoadedModel:
    """A model in eval mode, from a resattn checkpoint / safetensors file, or from the zoo by name.

    Args:
        checkpoint: a training checkpoint (``last.pt``, ``best.pt``) or a ``.safetensors`` file written by resattn.
        model: zoo name (``arch`` or ``arch.tag``); required with a plain weights file, optional otherwise.
        pretrained: load the released weights of ``model`` (a pretrained tag).
        which: "model" or "ema" weights of a training checkpoint.
        model_kwargs: overrides for the model's constructor (e.g. ``num_classes``) when building from a name.
    """
    if checkpoint is None:
        if model is None:
            raise ValueError("Give --checkpoint or --model")
        check_model_name(model)
        try:
            net = create_model(model, pretrained=pretrained, **model_kwargs)
        except RuntimeError as err:  # timm: no weights for this name
            raise ValueError(f"No pretrained weights for {model!r} ({err}); use a tagged name from "
                             f"`resattn list` or pass --checkpoint") from err
        cfg = getattr(net, "pretrained_cfg", {}) or {}
        return LoadedModel(net.eval(), model, cfg.get("dataset"), list(cfg.get("class_names") or []))

    path = Path(checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f"Checkpoint {path} does not exist")
    if path.suffix == ".safetensors":
        state, meta = load_safetensors(path)
        name = model or meta.get("model")
        if name is None:
            raise CheckpointError(f"{path} names no model in its metadata; pass --model")
        args = json.loads(meta.get("model_args", "{}"))
        # the run's settings (seed, split, folder preprocessing) live in its config.yaml beside the weights
        dataset, classes, config = meta.get("dataset"), [], config_beside(path)
        if "class_names" in meta:
            classes = json.loads(meta["class_names"])
    else:
        ckpt = load_checkpoint(path)
        if "model_name" not in ckpt:
            raise CheckpointError(f"{path} is not a resattn training checkpoint (no model_name)")
        name, args = model or ckpt["model_name"], dict(ckpt.get("model_args") or {})
        state = checkpoint_weights(ckpt, which, path)
        dataset, classes, config = ckpt.get("dataset"), list(ckpt.get("class_names") or []), ckpt.get("config", {})
    check_model_name(name)
    args.update(model_kwargs)
    net = create_model(name, **args)
    load_state_checked(net, state, path, name, args)
    return LoadedModel(net.eval(), name, dataset, classes, config)
