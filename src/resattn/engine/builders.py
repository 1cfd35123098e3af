"""The parts of a training run, each built from its TrainConfig: the run folder, data, model, training loader, learning
rate schedule, optimizer, EMA, and the wrapped model that takes the steps (DDP, ``torch.compile``).

:class:`~resattn.engine.trainer.Run` calls them in a fixed order after seeding: the random draws of data and model
initialisation depend on it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..data import (
    GlobalBatchSampler,
    IndexedSubset,
    NoisyLabels,
    SoftTargets,
    apply_label_noise,
    create_dataset,
    create_transform,
    dataset_info,
)
from ..models.factory import check_model_name, create_model
from .collectives import broadcast_object
from .common import AMP_DTYPES, test_split_name, train_val_subsets
from .config import TrainConfig
from .distributed import DistInfo
from .finetune import WeightSource, apply_initial_weights
from .folder_data import build_folder_data, is_folder_dataset
from .schedule import IterSchedule
from .stop import ignore_stop_signals
from .teacher_targets import load_teacher_targets
from .weight_average import WeightAverage

__all__ = ["MASK_PROBE_IMAGES", "build_data", "build_ema", "build_model", "build_optimizer", "build_schedule",
           "build_train_loader", "check_config", "mask_probe", "param_groups", "run_folder", "wrap_for_training"]

# Enough images for a stable median contrast, few enough to cost seconds per evaluation on a CPU.
MASK_PROBE_IMAGES = 1024


def check_config(cfg: TrainConfig, device: torch.device) -> None:
    """The settings that cannot work together, refused before anything is built."""
    check_model_name(cfg.model)
    if (cfg.epochs is None) == (cfg.iters is None):
        raise ValueError("Give exactly one of --epochs and --iters")
    if cfg.amp not in AMP_DTYPES:
        raise ValueError(f"Unknown --amp {cfg.amp!r}; allowed: {', '.join(AMP_DTYPES)}")
    if cfg.amp == "fp16" and device.type != "cuda":
        raise ValueError("--amp fp16 needs a CUDA device; on the CPU use --amp auto")
    if cfg.swa_epochs and cfg.ema_decay:
        raise ValueError("Give at most one of --swa-epochs and --ema-decay: both would set the weights the run ships")
    if cfg.soft_targets and (cfg.label_noise or is_folder_dataset(cfg.dataset)):
        raise ValueError("--soft-targets works with a built-in dataset and clean labels (not with --label-noise or "
                         "--dataset folder)")
    if not 0.0 <= cfg.soft_target_weight <= 1.0:
        raise ValueError(f"--soft-target-weight must be in [0, 1], got {cfg.soft_target_weight}")
    if cfg.swa_epochs < 0:
        raise ValueError(f"--swa-epochs must be 0 or more, got {cfg.swa_epochs}")
    decays = {"--weight-decay": cfg.weight_decay, "--mask-weight-decay": cfg.mask_weight_decay,
              "--mask-head-weight-decay": cfg.mask_head_weight_decay}
    for flag, decay in decays.items():
        if decay is not None and decay < 0:  # SGD checks its default decay, not a parameter group's
            raise ValueError(f"{flag} must be 0 or more, got {decay}")


def run_folder(cfg: TrainConfig) -> Path:
    """``cfg.output``, named from the date when unset (rank 0's clock, for every rank); a folder that already holds a
    run is refused unless the run resumes."""
    if cfg.output is None:
        cfg.output = broadcast_object(f"runs/{cfg.model}_{cfg.dataset}_{time.strftime('%Y%m%d-%H%M%S')}")
    out = Path(cfg.output)
    if not cfg.resume and any(out.glob("last*.pt")):
        raise ValueError(f"{out} already holds a run; continue it with --resume auto, or choose another --output")
    return out


def build_data(cfg: TrainConfig, source: WeightSource | None) -> dict[str, Any]:
    """``info``, ``train`` (augmented, labels maybe noisy), ``val``, ``test`` and the ``realised_noise`` rate; image
    folders take the normalisation of the fine-tuning ``source``."""
    if is_folder_dataset(cfg.dataset):  # listed, checked for bad files, counted, preset chosen: engine/folder_data.py
        return build_folder_data(cfg, source)
    info = dataset_info(cfg.dataset)
    preset = info["transform_preset"]
    img_size = cfg.img_size or info["image_size"]
    eval_tf = create_transform(preset, train=False, img_size=img_size)
    train_tf = (create_transform(preset, train=True, img_size=img_size, random_erasing=cfg.random_erasing)
                if cfg.augment else eval_tf)
    train_set, val_set = train_val_subsets(cfg.dataset, cfg.data_dir, cfg.val_split, cfg.seed, train_tf, eval_tf,
                                           cfg.download)
    realised_noise = 0.0
    if cfg.label_noise:
        # paper Table 5: noise only ever touches the training subset, never validation or test
        noisy, realised_noise = apply_label_noise(train_set.targets, cfg.label_noise, info["num_classes"], cfg.seed)
        train_set = NoisyLabels(train_set, noisy)
    if cfg.soft_targets:
        train_set = _with_teacher_targets(train_set, cfg, info)
    test_set = create_dataset(cfg.dataset, cfg.data_dir, test_split_name(info, cfg.data_dir), transform=eval_tf,
                              download=cfg.download)
    return dict(info=info, train=train_set, val=val_set, test=test_set, realised_noise=realised_noise)


def mask_probe(val_set) -> IndexedSubset | None:
    """A run without validation images watches its masks on these instead: the first ``MASK_PROBE_IMAGES`` training
    images, through the evaluation transform. An empty validation subset (``--val-split 0``) is still a view of the
    whole training split, evaluation-transformed, so its parent holds them. None where there is no such parent."""
    parent = getattr(val_set, "dataset", None)
    if parent is None:
        return None
    return IndexedSubset(parent, range(min(MASK_PROBE_IMAGES, len(parent))))


def _with_teacher_targets(train_set, cfg: TrainConfig, info: dict[str, Any]) -> SoftTargets:
    """The training subset with each label mixed with the teacher's row of ``--soft-targets``."""
    num_images = len(train_set.dataset)  # the full training split the subset was cut from
    teacher = load_teacher_targets(cfg.soft_targets, cfg.dataset, num_images, info["num_classes"])
    return SoftTargets(train_set, teacher, cfg.soft_target_weight)


def build_model(cfg: TrainConfig, info: dict[str, Any], device: torch.device, source: WeightSource | None,
                verbose: bool) -> tuple[nn.Module, dict[str, Any]]:
    """The network on ``device`` with the initial weights of ``source`` (``--pretrained`` /
    ``--initial-checkpoint``), and the constructor arguments that rebuild it."""
    model_args = dict(num_classes=info["num_classes"], in_chans=info["in_chans"], drop_rate=cfg.drop_rate,
                      **cfg.model_kwargs)
    model = create_model(cfg.model, **model_args).to(device)
    apply_initial_weights(model, source, info["class_names"] or [], verbose=verbose)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if cfg.grad_checkpointing:
        model.set_grad_checkpointing(True)
    return model, model_args


def build_train_loader(dataset, cfg: TrainConfig, dist: DistInfo,
                       device: torch.device) -> tuple[GlobalBatchSampler, torch.utils.data.DataLoader]:
    """This rank's share of every global batch, in an order that is a function of (seed, epoch, step)."""
    sampler = GlobalBatchSampler(len(dataset), cfg.batch_size, dist.rank, dist.world_size, shuffle=True,
                                 seed=cfg.seed)
    loader = torch.utils.data.DataLoader(
        dataset, batch_sampler=sampler, num_workers=cfg.workers, generator=torch.Generator(),
        # Kept workers skip a restart per epoch (seconds with many workers); the batch sampler runs in this process,
        # so the sample order still follows set_epoch.
        persistent_workers=cfg.workers > 0, pin_memory=device.type == "cuda",
        worker_init_fn=ignore_stop_signals if cfg.workers else None,
    )
    return sampler, loader


def build_schedule(cfg: TrainConfig, steps_per_epoch: int) -> IterSchedule:
    """The learning rate of every step; ``--epochs`` become iterations, milestones < 1 fractions of the run."""
    total_iters = cfg.iters if cfg.iters is not None else max(1, round(cfg.epochs * steps_per_epoch))
    milestones = tuple(int(m * total_iters if 0 < m < 1 else m) for m in cfg.milestones)
    return IterSchedule(cfg.lr, total_iters, cfg.sched, milestones, cfg.lr_gamma, cfg.warmup_iters)


def param_groups(model: nn.Module, weight_decay: float, mask_weight_decay: float | None,
                 mask_head_weight_decay: float | None = None) -> list[dict[str, Any]]:
    """SGD groups by weight decay: one, or the rest and the soft-mask branches (every name with ``.mask.``,
    ``--mask-weight-decay``), or those two and, split off the branches, the heads that close them
    (``.mask.head.``, ``--mask-head-weight-decay``)."""
    if mask_weight_decay is None and mask_head_weight_decay is None:
        return [dict(params=list(model.parameters()), weight_decay=weight_decay)]
    branch_decay = weight_decay if mask_weight_decay is None else mask_weight_decay
    decays = {"rest": weight_decay, "mask": branch_decay}
    if mask_head_weight_decay is not None:
        decays["head"] = mask_head_weight_decay
    params: dict[str, list] = {key: [] for key in decays}
    for name, param in model.named_parameters():
        dotted = f".{name}"
        key = "head" if "head" in decays and ".mask.head." in dotted else "mask" if ".mask." in dotted else "rest"
        params[key].append(param)
    if not params["mask"] and not params.get("head"):
        flag = "--mask-weight-decay" if mask_weight_decay is not None else "--mask-head-weight-decay"
        name = getattr(model, "pretrained_cfg", {}).get("architecture", type(model).__name__)
        raise ValueError(f"{flag}: {name} has no soft-mask branches")
    return [dict(params=params[key], weight_decay=decay) for key, decay in decays.items()]


def build_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.SGD:
    groups = param_groups(model, cfg.weight_decay, cfg.mask_weight_decay, cfg.mask_head_weight_decay)
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
                           weight_decay=cfg.weight_decay)


def build_ema(model: nn.Module, cfg: TrainConfig, steps_per_epoch: int, total_iters: int):
    """The weights a run ships besides its own: a :class:`WeightAverage` of its last ``--swa-epochs`` epochs, timm's
    ModelEmaV3 with ``--ema-decay``, or None."""
    if cfg.swa_epochs:
        start = total_iters - cfg.swa_epochs * steps_per_epoch
        if start < 0:
            raise ValueError(f"--swa-epochs {cfg.swa_epochs} is longer than the run ({total_iters} iterations of "
                             f"{steps_per_epoch} per epoch)")
        return WeightAverage(model, start, steps_per_epoch)
    if not cfg.ema_decay:
        return None
    from timm.utils import ModelEmaV3

    return ModelEmaV3(model, decay=cfg.ema_decay)


def wrap_for_training(model: nn.Module, cfg: TrainConfig, dist: DistInfo, device: torch.device) -> nn.Module:
    """The module the steps go through: DDP across processes, compiled with ``--compile``. Checkpoints and
    evaluation use the bare ``model``, whose parameters it shares."""
    if dist.enabled:
        ids = [device.index] if device.type == "cuda" else None
        model = nn.parallel.DistributedDataParallel(model, device_ids=ids)
    if cfg.compile:
        model = torch.compile(model)
    return model
