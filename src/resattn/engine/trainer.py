"""``train(config)``: a whole run, from data to the final test metrics, crash-safe and resumable.

What a run leaves in ``config.output``: ``config.yaml`` (resolved), ``summary.csv`` (one row per evaluation),
TensorBoard events (``tb/``), ``curves.png``, ``last.pt`` (+ ``last.prev.pt``), ``best.pt``, ``best.safetensors``
(weights of the best validation checkpoint) and ``results.json`` (final test metrics).

Exact resume: the sample order of every step is a pure function of (seed, epoch, step) (``GlobalBatchSampler``),
the learning rate a pure function of the step, and the checkpoint holds every RNG state; so a run killed at any
step and resumed with ``--resume auto`` ends bit-identical to an uninterrupted one (CPU, ``workers=0``).
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..analysis.mask_health import FLAT_CONTRAST, MaskHealthMeter, flat_stages, stage_contrast
from ..data import (
    GlobalBatchSampler,
    NoisyLabels,
    apply_label_noise,
    create_dataset,
    create_transform,
    dataset_info,
    train_val_split,
)
from ..models.factory import check_model_name, create_model
from ..viz.recorder import mask_modules
from .checkpoint import CheckpointError, export_safetensors, load_checkpoint, load_resume_checkpoint, save_checkpoint
from .collectives import all_reduce_mean, barrier, broadcast_module, broadcast_object, gather_objects
from .config import TrainConfig, save_yaml
from .distributed import DistInfo, cleanup, init_distributed
from .finetune import apply_initial_weights
from .folder_data import build_folder_data, is_folder_dataset
from .loop import NonFiniteLossError, StepContext, check_finite, train_one_epoch
from .plots import plot_curves
from .restore import load_state_checked
from .rng import get_rng_state, set_rng_state
from .schedule import IterSchedule
from .sharded_eval import evaluate_sharded
from .stop import StopVote, ignore_stop_signals

log = logging.getLogger("resattn.train")
SUMMARY_FIELDS = ["step", "epoch", "train_loss", "val_loss", "val_top1", "val_top5", "lr", "images_per_s", "wall_s"]
CONTRAST_PREFIX = "mask_contrast_"  # summary.csv columns: median per-channel spatial std of M, per stage
AMP_DTYPES = {"none": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {name}: CUDA is not available on this machine; use --device cpu")
    return device


def build_data(cfg: TrainConfig) -> dict[str, Any]:
    """Training subset (augmented, maybe noisy labels), validation subset carved from it, and the test split."""
    if is_folder_dataset(cfg.dataset):  # listed, checked for bad files, counted, preset chosen: engine/folder_data.py
        return build_folder_data(cfg)
    info = dataset_info(cfg.dataset)
    preset = info["transform_preset"]
    img_size = cfg.img_size or info["image_size"]
    eval_tf = create_transform(preset, train=False, img_size=img_size)
    train_tf = (create_transform(preset, train=True, img_size=img_size, random_erasing=cfg.random_erasing)
                if cfg.augment else eval_tf)
    full = create_dataset(cfg.dataset, cfg.data_dir, "train", download=cfg.download)
    if info["num_classes"] is None:  # image folders: the classes are the folder names
        info = dict(info, num_classes=len(full.classes), class_names=list(full.classes))
    train_set, val_set = train_val_split(full, cfg.val_split, cfg.seed, train_transform=train_tf, val_transform=eval_tf)
    realised_noise = 0.0
    if cfg.label_noise:
        # paper Table 5: noise only ever touches the training subset, never validation or test
        noisy, realised_noise = apply_label_noise(train_set.targets, cfg.label_noise, info["num_classes"], cfg.seed)
        train_set = NoisyLabels(train_set, noisy)
    test_set = create_dataset(cfg.dataset, cfg.data_dir, test_split_name(info, cfg.data_dir), transform=eval_tf,
                              download=cfg.download)
    return dict(info=info, train=train_set, val=val_set, test=test_set, realised_noise=realised_noise)


def test_split_name(info: dict[str, Any], data_dir: str | None) -> str:
    """ "test" where the dataset has one; ImageNet's held-out set is "val" (the paper reports on it)."""
    splits = info["splits"]
    if splits is None:  # an image folder: whichever of test/ and val/ exists
        root = Path(data_dir or ".")
        return "test" if (root / "test").is_dir() or not (root / "val").is_dir() else "val"
    return "test" if "test" in splits else "val"


def eval_loader(dataset, batch_size: int, workers: int) -> torch.utils.data.DataLoader:
    # A private generator: creating the iterator must not draw from the global RNG (exact resume).
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers,
                                       generator=torch.Generator(),
                                       worker_init_fn=ignore_stop_signals if workers else None)


def param_groups(model: nn.Module, weight_decay: float, mask_weight_decay: float | None) -> list[dict[str, Any]]:
    """One SGD group, or two when the soft-mask branches get their own weight decay (``--mask-weight-decay``)."""
    if mask_weight_decay is None:
        return [dict(params=list(model.parameters()), weight_decay=weight_decay)]
    mask, rest = [], []
    for name, param in model.named_parameters():
        (mask if ".mask." in f".{name}" else rest).append(param)
    if not mask:
        raise ValueError(f"--mask-weight-decay: {type(model).__name__} has no soft-mask branches")
    return [dict(params=rest, weight_decay=weight_decay), dict(params=mask, weight_decay=mask_weight_decay)]


class Run:
    """State of one training run; ``train()`` below is the public entry point."""

    def __init__(self, cfg: TrainConfig) -> None:
        check_model_name(cfg.model)
        if (cfg.epochs is None) == (cfg.iters is None):
            raise ValueError("Give exactly one of --epochs and --iters")
        if cfg.amp not in AMP_DTYPES:
            raise ValueError(f"Unknown --amp {cfg.amp!r}; allowed: {', '.join(AMP_DTYPES)}")
        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        if cfg.amp == "fp16" and self.device.type != "cuda":
            raise ValueError("--amp fp16 needs a CUDA device; on the CPU use --amp bf16")
        self.dist: DistInfo = init_distributed(self.device)
        self.device = self.dist.device
        self.is_main = self.dist.rank == 0
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed input shapes: let cuDNN pick its fastest kernels once
        if cfg.output is None:  # rank 0's clock names the folder for every rank
            cfg.output = broadcast_object(f"runs/{cfg.model}_{cfg.dataset}_{time.strftime('%Y%m%d-%H%M%S')}")
        self.out = Path(cfg.output)
        if not cfg.resume and any(self.out.glob("last*.pt")):
            raise ValueError(f"{self.out} already holds a run; continue it with --resume auto, or choose another "
                             f"--output")
        torch.manual_seed(cfg.seed + self.dist.rank)

        self.data = build_data(cfg)
        info = self.data["info"]
        self.model_args = dict(num_classes=info["num_classes"], in_chans=info["in_chans"], drop_rate=cfg.drop_rate,
                               **cfg.model_kwargs)
        self.model = create_model(cfg.model, **self.model_args).to(self.device)
        # --pretrained / --initial-checkpoint: the weights to start from (engine/finetune.py)
        apply_initial_weights(self.model, cfg, info["class_names"] or [], verbose=self.is_main)
        if cfg.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        if cfg.grad_checkpointing:
            self.model.set_grad_checkpointing(True)

        self.sampler = GlobalBatchSampler(len(self.data["train"]), cfg.batch_size, self.dist.rank,
                                          self.dist.world_size, shuffle=True, seed=cfg.seed)
        self.train_loader = torch.utils.data.DataLoader(
            self.data["train"], batch_sampler=self.sampler, num_workers=cfg.workers, generator=torch.Generator(),
            # Kept workers skip a restart per epoch (seconds with many workers); the batch sampler runs in this
            # process, so the sample order still follows set_epoch.
            persistent_workers=cfg.workers > 0, pin_memory=self.device.type == "cuda",
            worker_init_fn=ignore_stop_signals if cfg.workers else None,
        )
        self.steps_per_epoch = self.sampler.steps_per_epoch()
        self.total_iters = cfg.iters if cfg.iters is not None else max(1, round(cfg.epochs * self.steps_per_epoch))
        milestones = [m * self.total_iters if 0 < m < 1 else m for m in cfg.milestones]
        self.schedule = IterSchedule(cfg.lr, self.total_iters, cfg.sched, tuple(int(m) for m in milestones),
                                     cfg.lr_gamma, cfg.warmup_iters)
        self.eval_interval = cfg.eval_interval or self.steps_per_epoch
        self.save_interval = cfg.save_interval or self.eval_interval

        self.optimizer = torch.optim.SGD(param_groups(self.model, cfg.weight_decay, cfg.mask_weight_decay),
                                         lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
                                         weight_decay=cfg.weight_decay)
        self.scaler = torch.amp.GradScaler("cuda") if cfg.amp == "fp16" else None
        self.ema = None
        if cfg.ema_decay:
            from timm.utils import ModelEmaV3

            self.ema = ModelEmaV3(self.model, decay=cfg.ema_decay)
        self.train_model: nn.Module = self.model
        if self.dist.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.train_model = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        if cfg.compile:
            self.train_model = torch.compile(self.train_model)

        self.step, self.best_top1, self.rows = 0, -1.0, []
        self.pending_rng: dict | None = None
        self.stop_vote = StopVote(self.dist.enabled)  # a signal to any rank stops every rank at the same step
        self.stop_requested = False  # what the ranks agreed (StopVote.poll): the same on every rank
        self.window = dict(loss=0.0, steps=0, images=0, start=time.perf_counter())
        self.pending_loss: torch.Tensor | None = None  # summed on the device until read_loss()
        self.pending_steps = 0
        self.wall_start = time.perf_counter()
        self.wall_before = 0.0  # wall time of earlier sessions of a resumed run
        self.bar = None
        self.tb = None  # TensorBoard writer (rank 0), opened in run()

    # ------------------------------------------------------------------------------------------- checkpoints
    def state(self) -> dict[str, Any]:
        rng = get_rng_state()
        if self.dist.enabled:
            rng = {"per_rank": gather_objects(rng)}
        return dict(
            model_name=self.cfg.model, model_args=self.model_args, model=self.model.state_dict(),
            optimizer=self.optimizer.state_dict(), scaler=self.scaler.state_dict() if self.scaler else None,
            ema=self.ema.module.state_dict() if self.ema else None, step=self.step, best_top1=self.best_top1,
            rng=rng, config=self.cfg.to_dict(), class_names=list(self.data["info"]["class_names"] or []),
            dataset=self.cfg.dataset, world_size=self.dist.world_size, wall_s=self.wall(),
        )

    def wall(self) -> float:
        return self.wall_before + time.perf_counter() - self.wall_start

    def save(self, name: str, state: dict | None = None) -> None:
        state = state or self.state()  # every rank joins the RNG gather
        if self.is_main:
            save_checkpoint(state, self.out / f"{name}.pt", keep_previous=name == "last")
        barrier()

    def try_resume(self) -> None:
        cfg = self.cfg
        if not cfg.resume:
            return
        if cfg.resume == "auto":
            # Rank 0 picks the file (the newest readable one) and every rank resumes from that same file.
            found = load_resume_checkpoint(self.out) if self.is_main else None
            chosen = broadcast_object(str(found[0]) if found else None)
            if chosen is None:
                self.log(f"--resume auto: nothing to resume in {self.out}, starting a new run")
                return
            path = Path(chosen)
            if found:
                state = found[1]
            elif path.is_file():
                state = load_checkpoint(path)
            else:
                raise CheckpointError(f"rank 0 resumes from {path}, which rank {self.dist.rank} cannot see: with "
                                      f"several machines, --output must be a folder that every machine sees")
        else:
            path, state = Path(cfg.resume), load_checkpoint(cfg.resume)
        if state.get("model_name") != cfg.model:
            raise CheckpointError(f"{path} holds a {state.get('model_name')!r} model, but --model is {cfg.model!r}")
        load_state_checked(self.model, state["model"], path, cfg.model, self.model_args)
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        if self.ema and state.get("ema"):
            self.ema.module.load_state_dict(state["ema"])
        self.step, self.best_top1 = int(state["step"]), float(state["best_top1"])
        self.wall_before = float(state.get("wall_s", 0.0))
        rng = state["rng"]
        if "per_rank" in rng:
            if len(rng["per_rank"]) != self.dist.world_size:
                self.log("resuming with another world size: RNG streams are re-seeded, the run is not bit-exact")
                rng = None
            else:
                rng = rng["per_rank"][self.dist.rank]
        self.pending_rng = rng
        self.rows = [r for r in self.read_summary() if int(r["step"]) <= self.step]
        self.log(f"resumed from {path} at step {self.step}/{self.total_iters}")

    # ---------------------------------------------------------------------------------------------- logging
    def log(self, message: str) -> None:
        if not self.is_main:
            return
        if self.bar is not None:
            self.bar.write(message)
        else:
            print(message, flush=True)

    def read_summary(self) -> list[dict[str, str]]:
        path = self.out / "summary.csv"
        if not path.exists():
            return []
        with path.open() as f:
            return list(csv.DictReader(f))

    def write_summary(self) -> None:
        extra = sorted({key for row in self.rows for key in row if key not in SUMMARY_FIELDS})
        with (self.out / "summary.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=SUMMARY_FIELDS + extra, restval="")
            writer.writeheader()
            writer.writerows(self.rows)

    # ---------------------------------------------------------------------------------------------- the run
    def on_step(self, step: int, loss: torch.Tensor, images: int) -> bool:
        self.step = step
        # Every rank votes every step and reads the same vote: all stop after the same step, and only then do they
        # enter the checkpoint's collectives together.
        self.stop_requested = self.stop_vote.poll()
        w = self.window
        # The loss stays a device tensor until it is read (log lines, evaluations, checkpoints): reading it every
        # step would make the host wait for the accelerator each step.
        self.pending_loss = loss if self.pending_loss is None else self.pending_loss + loss
        self.pending_steps += 1
        w["steps"] += 1
        w["images"] += images * self.dist.world_size
        done = step >= self.total_iters
        evaluate = step % self.eval_interval == 0 or done
        save = step % self.save_interval == 0 or done or self.stop_requested
        log_line = self.cfg.progress != "none" and step % self.cfg.log_interval == 0
        if self.bar is not None:
            self.bar.update(1)
        if log_line or evaluate or save:
            mean = self.read_loss()
            if self.bar is not None:
                self.bar.set_postfix(loss=f"{mean:.3f}", lr=f"{self.schedule(step - 1):.4f}", refresh=False)
            elif log_line:
                self.log(f"step {step}/{self.total_iters} loss {mean:.4f} lr {self.schedule(step - 1):.5f}")
        if evaluate:
            self.evaluate_and_log()
        if save:
            self.save("last")
        return self.stop_requested

    def read_loss(self) -> float:
        """Mean training loss of the steps since the last read, added to the evaluation window; raises
        NonFiniteLossError (before anything is saved) if it is not finite.

        The mean over the ranks (each holds the loss of its share of the batch): the loss of the global batch, and a
        NaN on one rank stops every rank at the same step. Every rank reads at the same steps.
        """
        total, steps = float(all_reduce_mean(self.pending_loss)), self.pending_steps
        check_finite(total, self.step, every=steps)
        self.window["loss"] += total
        self.pending_loss, self.pending_steps = None, 0
        return total / steps

    def evaluate_and_log(self) -> None:
        w = self.window
        elapsed = time.perf_counter() - w["start"]
        row: dict[str, Any] = dict(
            step=self.step, epoch=round(self.step / self.steps_per_epoch, 3),
            train_loss=round(w["loss"] / max(1, w["steps"]), 5), lr=self.schedule(self.step - 1),
            images_per_s=round(w["images"] / max(elapsed, 1e-9), 1), wall_s=round(self.wall(), 1),
        )
        model = self.ema.module if self.ema else self.model
        # Every rank evaluates its share of the batches; the mask statistics come from rank 0's share.
        meter = MaskHealthMeter(model) if self.is_main and mask_modules(model) else contextlib.nullcontext()
        with meter:
            metrics = evaluate_sharded(model, self.data["val"], 256, self.device, AMP_DTYPES[self.cfg.amp],
                                       self.cfg.channels_last, self.cfg.workers)
        # The metrics are the same on every rank (all-reduced), so every rank takes the same decision.
        improved = metrics["top1"] > self.best_top1
        self.best_top1 = max(self.best_top1, metrics["top1"])
        if self.is_main:
            row.update(val_loss=round(metrics["loss"], 5), val_top1=round(metrics["top1"], 3),
                       val_top5=round(metrics["top5"], 3))
            if isinstance(meter, MaskHealthMeter):
                self.log_mask_health(stage_contrast(meter.summary()), row)
            self.rows.append(row)
            self.write_summary()
            plot_curves(self.rows, self.out / "curves.png")
            if self.tb is not None:
                for key in ("train_loss", "val_loss", "val_top1", "val_top5", "lr", "images_per_s"):
                    self.tb.add_scalar(key, row[key], self.step)
                for key in row:
                    if key.startswith(CONTRAST_PREFIX):
                        self.tb.add_scalar(f"mask_contrast/{key[len(CONTRAST_PREFIX):]}", row[key], self.step)
                self.tb.flush()
            self.log(f"step {self.step}/{self.total_iters} epoch {row['epoch']:.2f}: "
                     f"train loss {row['train_loss']:.4f}, val top-1 {row['val_top1']:.2f}% "
                     f"top-5 {row['val_top5']:.2f}%, {row['images_per_s']:.0f} img/s")
        if improved:
            self.save("best")
        self.window = dict(loss=0.0, steps=0, images=0, start=time.perf_counter())
        self.train_model.train()

    def log_mask_health(self, contrast: dict[str, float], row: dict[str, Any]) -> None:
        """Adds each stage's spatial contrast to ``row``; says once per run when a stage's masks went flat."""
        earlier = {stage for r in self.rows for stage in flat_stages(
            {k[len(CONTRAST_PREFIX):]: float(v) for k, v in r.items() if k.startswith(CONTRAST_PREFIX) and v != ""})}
        for stage, value in contrast.items():
            row[f"{CONTRAST_PREFIX}{stage}"] = round(value, 6)
        for stage in flat_stages(contrast):
            if stage not in earlier:
                self.log(f"warning: the soft masks of {stage} went flat at step {self.step} (median per-channel "
                         f"spatial std of M {contrast[stage]:.4f} < {FLAT_CONTRAST}): they no longer say where to "
                         f"look (docs/attention_maps.md#mask-health)")

    def request_stop(self, signum: int, frame: Any) -> None:
        self.stop_vote.request()
        when = "within the next few steps (every process at the same one)" if self.dist.enabled else "this step"
        self.log(f"signal {signum}: saving a checkpoint at the end of {when}, then stopping")

    def run(self) -> dict[str, Any]:
        cfg = self.cfg
        if self.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            save_yaml(cfg, self.out / "config.yaml")
        self.try_resume()
        if self.is_main:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(self.out / "tb"))
            self.log(f"{cfg.model} on {cfg.dataset}: {len(self.data['train'])} train / {len(self.data['val'])} val "
                     f"images, {self.total_iters} iterations of {cfg.batch_size} on {self.dist.world_size} "
                     f"process(es), device {self.device}, amp {cfg.amp}")
            if cfg.label_noise:
                self.log(f"label noise: requested {cfg.label_noise:.3f}, realised {self.data['realised_noise']:.4f}")
        show_bar = self.is_main and (cfg.progress == "bar" or (cfg.progress == "auto" and sys.stderr.isatty()))
        if show_bar:
            from tqdm import tqdm

            self.bar = tqdm(total=self.total_iters, initial=self.step, desc="train", dynamic_ncols=True)
        previous = {sig: signal.signal(sig, self.request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        ctx = StepContext(self.optimizer, self.schedule, self.device, AMP_DTYPES[cfg.amp], self.scaler,
                          cfg.grad_accum, cfg.channels_last, cfg.label_smoothing, self.ema)
        try:
            while self.step < self.total_iters and not self.stop_requested:
                epoch, offset = divmod(self.step, self.steps_per_epoch)
                self.sampler.set_epoch(epoch, start_step=offset)
                batches = iter(self.train_loader)
                if self.pending_rng is not None:  # after the iterator exists: nothing may draw in between
                    set_rng_state(self.pending_rng)
                    self.pending_rng = None
                self.step = train_one_epoch(self.train_model, batches, ctx, self.step, self.total_iters, self.on_step)
        except NonFiniteLossError as err:
            self.log(f"stopped: {err}. The last good checkpoint is {self.out / 'last.pt'}")
            raise
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if self.bar is not None:
                self.bar.close()
                self.bar = None
        if self.stop_requested and self.step < self.total_iters:
            self.log(f"stopped at step {self.step}; continue with --resume auto --output {self.out}")
            return dict(stopped_at=self.step)
        return self.finish()

    def finish(self) -> dict[str, Any]:
        results: dict[str, Any] = dict(model=self.cfg.model, dataset=self.cfg.dataset, iterations=self.total_iters,
                                       best_val_top1=self.best_top1, wall_s=round(self.wall(), 1),
                                       realised_label_noise=self.data["realised_noise"])
        # Rank 0 alone reads the selected weights; the others get them by broadcast below, so no other rank needs
        # to see the run folder, and no rank enters a collective alone.
        weights, best_step = self.selected_weights() if self.is_main else (None, None)
        best_step = broadcast_object(best_step)
        if self.is_main:
            export_safetensors(weights, self.out / "best.safetensors",
                               metadata=dict(model=self.cfg.model, model_args=json.dumps(self.model_args),
                                             dataset=self.cfg.dataset,
                                             class_names=json.dumps(list(self.data["info"]["class_names"] or []))))
        if self.cfg.test:
            # The test split is evaluated once, on the checkpoint selected on the validation split, by every rank.
            model = create_model(self.cfg.model, **self.model_args).to(self.device)
            if self.is_main:
                model.load_state_dict(weights)
            broadcast_module(model)
            if self.cfg.channels_last:
                model = model.to(memory_format=torch.channels_last)
            test = evaluate_sharded(model, self.data["test"], 256, self.device, AMP_DTYPES[self.cfg.amp],
                                    self.cfg.channels_last, self.cfg.workers)
            results.update(best_step=best_step, test_top1=round(test["top1"], 3), test_top5=round(test["top5"], 3),
                           test_loss=round(test["loss"], 5), test_images=test["images"])
            self.log(f"test top-1 {test['top1']:.2f}%  top-5 {test['top5']:.2f}% ({test['images']} images, "
                     f"checkpoint of step {best_step} selected on validation)  wall {results['wall_s']:.0f} s")
        if self.is_main:
            (self.out / "results.json").write_text(json.dumps(results, indent=2))
            if self.tb is not None:
                self.tb.close()
        barrier()
        return results

    def selected_weights(self) -> tuple[dict[str, torch.Tensor], int]:
        """The weights this run ships (the EMA's where there is one) and their step: best.pt's, or the current
        ones when best.pt is missing (a run resumed into a new folder whose evaluations never beat the resumed
        best)."""
        path = self.out / "best.pt"
        if path.exists():
            best = load_checkpoint(path)
            return (best["ema"] if best.get("ema") else best["model"]), int(best["step"])
        model = self.ema.module if self.ema else self.model
        return model.state_dict(), self.step


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train ``cfg.model`` on ``cfg.dataset``; returns the final metrics (also written to results.json)."""
    run = Run(cfg)
    try:
        return run.run()
    finally:
        cleanup()
