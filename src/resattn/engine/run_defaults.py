"""Defaults that depend on other settings, applied to what the recipe and the command line left unset.

* Fine-tuning (``--pretrained`` / ``--initial-checkpoint``): the model is the source's architecture, with the
  source's model options (``mask_act``, ...), since only the same network can take its weights.
* An image folder: the model follows the images' size (:mod:`resattn.data.folder_preset`), and validation takes 10%
  of the training images instead of the built-in datasets' 5,000.
* The synthetic ``fake`` data set: validation takes 10% of its 1,000 training images too (5,000 would not fit).
"""

from __future__ import annotations

from typing import Any

from .finetune import TASK_ARGS, source_of
from .folder_data import folder_preset_choice, is_folder_dataset

__all__ = ["FOLDER_VAL_SPLIT", "apply_run_defaults"]

FOLDER_VAL_SPLIT = 0.1
MODEL_OPTION_KEYS = {"model_kwargs", "mask_act", "mask_type", "naive_attention"}


def apply_run_defaults(cfg: Any, given: set[str]) -> None:
    """Fills in the defaults above; ``given`` holds the config keys the recipe or the command line set."""
    source = source_of(cfg)
    if source is not None and source.model_name:
        if "model" not in given:
            cfg.model = source.model_name
        if cfg.model == source.model_name and not given & MODEL_OPTION_KEYS:
            cfg.model_kwargs = {k: v for k, v in source.model_args.items() if k not in TASK_ARGS}
    if is_folder_dataset(cfg.dataset):
        if "model" not in given and (source is None or not source.model_name):
            cfg.model = folder_preset_choice(cfg).model
        if "val_split" not in given:
            cfg.val_split = FOLDER_VAL_SPLIT
    if cfg.dataset.lower() == "fake" and "val_split" not in given:
        cfg.val_split = FOLDER_VAL_SPLIT
