"""What input a trained network expects, read from what its run recorded (checkpoint config, config.yaml, tag).

A run on an image folder writes the preprocessing it used into its config (``preset``, ``in_chans``, ``img_size``,
``mean``, ``std``); a run on a named dataset used that dataset's. ``best.pt`` holds the config; ``best.safetensors``
holds only the model, dataset and class names, so its run folder's ``config.yaml`` is read beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..data.input_spec import InputSpec, adapt_stats, folder_spec, spec_for_dataset

__all__ = ["config_beside", "recorded_spec", "spec_from_pretrained_cfg"]


def config_beside(path: str | Path) -> dict[str, Any]:
    """The run's ``config.yaml`` next to a weights file, or {} if there is none (or it is not a mapping)."""
    candidate = Path(path).with_name("config.yaml")
    if not candidate.is_file():
        return {}
    try:
        data = yaml.safe_load(candidate.read_text())
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def recorded_spec(dataset: str | None, config: dict[str, Any], in_chans: int) -> InputSpec | None:
    """The spec a run recorded: its folder preprocessing, else its named dataset's; None if neither is known."""
    if config.get("preset"):
        return folder_spec(config["preset"], int(config.get("in_chans") or in_chans), int(config["img_size"]),
                           config.get("mean"), config.get("std"))
    if dataset and dataset.strip().lower() != "folder":
        return spec_for_dataset(dataset, in_chans, config.get("img_size"))
    return None


def spec_from_pretrained_cfg(cfg: dict[str, Any], in_chans: int) -> InputSpec:
    """The spec of a zoo model or a released tag (timm's ``pretrained_cfg``, annotated with the tag's dataset)."""
    if cfg.get("dataset"):
        return spec_for_dataset(cfg["dataset"], in_chans)
    size = int(cfg.get("input_size", (in_chans, 224, 224))[-1])
    return InputSpec("cifar" if size <= 64 else "imagenet", in_chans, size,
                     adapt_stats(cfg.get("mean", (0.5,)), in_chans), adapt_stats(cfg.get("std", (0.25,)), in_chans))
