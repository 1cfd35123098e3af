"""``train(config)``: a whole run, from data to the final test metrics, crash-safe and resumable.

What a run leaves in ``config.output``: ``config.yaml`` (resolved), ``summary.csv`` (one row per evaluation),
TensorBoard events (``tb/``), ``curves.png``, ``last.pt`` (+ ``last.prev.pt``), ``best.pt``, ``best.safetensors``
(weights of the best validation checkpoint) and ``results.json`` (final test metrics).

Exact resume: the sample order of every step is a pure function of (seed, epoch, step) (``GlobalBatchSampler``),
the learning rate a pure function of the step, and the checkpoint holds every RNG state; so a run killed at any
step and resumed with ``--resume auto`` ends bit-identical to an uninterrupted one (CPU, ``workers=0``).

The parts are built in ``builders.py``, checkpoints kept by ``checkpointer.py``, reports written by
``metrics_writer.py``; :class:`Run` steps the loop and decides when to evaluate, save and stop.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import time
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from ..analysis.mask_health import MaskHealthMeter, stage_contrast
from ..models.factory import create_model
from ..viz.recorder import mask_modules
from .builders import (
    build_data,
    build_ema,
    build_model,
    build_optimizer,
    build_schedule,
    build_train_loader,
    check_config,
    mask_probe,
    run_folder,
    wrap_for_training,
)
from .checkpointer import Checkpointer
from .collectives import all_reduce_mean, barrier, broadcast_module
from .common import AMP_DTYPES, resolve_device
from .config import TrainConfig, save_yaml
from .distributed import cleanup, init_distributed
from .finetune import source_of
from .loop import NonFiniteLossError, StepContext, check_finite, train_one_epoch
from .metrics_writer import MetricsWriter
from .precision import resolve_amp, slow_bf16_warning
from .rng import set_rng_state
from .sharded_eval import evaluate_sharded
from .stop import StopVote, shut_down_workers
from .weight_average import WeightAverage, holds_shipped_weights

EVAL_BATCH_SIZE = 256


class Run:
    """One training run; ``train()`` below is the public entry point."""

    def __init__(self, cfg: TrainConfig) -> None:
        device = resolve_device(cfg.device)
        cfg.amp = resolve_amp(cfg.amp, device)  # config.yaml records the precision the run took
        check_config(cfg, device)
        self.amp_warning = slow_bf16_warning(cfg.amp, device)
        self.cfg = cfg
        self.dist = init_distributed(device)
        self.device, self.is_main = self.dist.device, self.dist.rank == 0
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed input shapes: let cuDNN pick its fastest kernels once
        self.out = run_folder(cfg)
        # The weights to start from, read once (dropped once they are in the model), before seeding: building a
        # released model draws random initial weights.
        source = source_of(cfg)
        torch.manual_seed(cfg.seed + self.dist.rank)

        self.data = build_data(cfg, source)
        self.model, self.model_args = build_model(cfg, self.data["info"], self.device, source, verbose=self.is_main)
        # --val-split 0: every training image trains, nothing is selected, and the final weights are the result
        self.validates = len(self.data["val"]) > 0
        self.mask_probe = None if self.validates else mask_probe(self.data["val"])
        self.sampler, self.train_loader = build_train_loader(self.data["train"], cfg, self.dist, self.device)
        self.steps_per_epoch = self.sampler.steps_per_epoch()
        self.schedule = build_schedule(cfg, self.steps_per_epoch)
        self.total_iters = self.schedule.total_iters
        self.eval_interval = cfg.eval_interval or self.steps_per_epoch
        self.save_interval = cfg.save_interval or self.eval_interval
        self.optimizer = build_optimizer(self.model, cfg)
        self.scaler = torch.amp.GradScaler("cuda") if cfg.amp == "fp16" else None
        self.ema = build_ema(self.model, cfg, self.steps_per_epoch, self.total_iters)
        self.train_model = wrap_for_training(self.model, cfg, self.dist, self.device)

        self.metrics = MetricsWriter(self.out, self.is_main, self.total_iters, self.dist.world_size)
        self.checkpoints = Checkpointer(cfg, self.out, self.dist, self.model, self.model_args, self.optimizer,
                                        self.scaler, self.ema, self.data["info"]["class_names"] or [],
                                        self.metrics.log)
        self.step, self.best_top1 = 0, -1.0
        self.pending_rng: dict | None = None  # a resumed run's RNG state, set once the first loader iterator exists
        self.stop_vote = StopVote(self.dist.enabled)  # a signal to any rank stops every rank at the same step
        self.stop_requested = False  # what the ranks agreed (StopVote.poll): the same on every rank
        self.pending_loss: torch.Tensor | None = None  # summed on the device until read_loss()
        self.pending_steps = 0
        self.wall_start, self.wall_before = time.perf_counter(), 0.0  # wall_before: a resumed run's time until then

    def wall(self) -> float:
        return self.wall_before + time.perf_counter() - self.wall_start

    def save(self, name: str) -> None:
        self.checkpoints.save(name, self.step, self.best_top1, self.wall())

    def on_step(self, step: int, loss: torch.Tensor, images: int) -> bool:
        self.step = step
        # Every rank votes every step and reads the same vote: all stop after the same step, and only then do they
        # enter the checkpoint's collectives together.
        self.stop_requested = self.stop_vote.poll()
        # The loss stays a device tensor until it is read (log lines, evaluations, checkpoints): reading it every
        # step would make the host wait for the accelerator each step.
        self.pending_loss = loss if self.pending_loss is None else self.pending_loss + loss
        self.pending_steps += 1
        self.metrics.step_done(images)
        done = step >= self.total_iters
        evaluate = step % self.eval_interval == 0 or done
        save = step % self.save_interval == 0 or done or self.stop_requested
        log_line = self.cfg.progress != "none" and step % self.cfg.log_interval == 0
        if log_line or evaluate or save:
            self.metrics.show_loss(step, self.read_loss(), self.schedule(step - 1), log_line)
        if evaluate:
            self.evaluate()
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
        self.metrics.add_loss(total)
        self.pending_loss, self.pending_steps = None, 0
        return total / steps

    def evaluate_on(self, model: nn.Module, dataset: Dataset) -> dict[str, float]:
        """Top-1, top-5 and loss of ``model`` on ``dataset``, each rank evaluating its share of the batches."""
        return evaluate_sharded(model, dataset, EVAL_BATCH_SIZE, self.device, AMP_DTYPES[self.cfg.amp],
                                self.cfg.channels_last, self.cfg.workers)

    def evaluate(self) -> None:
        """Validation of the weights the run would ship (the EMA's or the average's where there is one); best.pt when
        top-1 improved. Without a validation split, the row holds the training numbers alone."""
        if self.averaging():
            self.ema.recompute_batchnorm(self.data["train"], EVAL_BATCH_SIZE, self.device, AMP_DTYPES[self.cfg.amp],
                                         self.cfg.channels_last, self.cfg.seed + self.step)
        metrics, contrast = self.validate() if self.validates else (None, self.probe_masks())
        # The metrics are the same on every rank (all-reduced), so every rank takes the same decision.
        improved = metrics is not None and metrics["top1"] > self.best_top1
        if improved:
            self.best_top1 = metrics["top1"]
        self.metrics.evaluation(self.step, round(self.step / self.steps_per_epoch, 3), self.schedule(self.step - 1),
                                self.wall(), metrics, contrast)
        if improved:
            self.save("best")
        self.metrics.new_window()
        self.train_model.train()

    def validate(self) -> tuple[dict[str, float], dict[str, float]]:
        """Top-1, top-5 and loss on the validation split, and each stage's mask contrast (rank 0; {} elsewhere)."""
        return self.measure(self.data["val"])

    def probe_masks(self) -> dict[str, float]:
        """Without a validation split: each stage's mask contrast on the probe's training images (rank 0; {}
        elsewhere). Evaluation draws nothing from the global RNG (its loaders have their own generators), so watching
        leaves the run's weights as they would have been without it."""
        if self.mask_probe is None or not mask_modules(self.model):
            return {}
        return self.measure(self.mask_probe)[1]

    def measure(self, dataset: Dataset) -> tuple[dict[str, float], dict[str, float]]:
        """Top-1, top-5 and loss of the shipped weights on ``dataset``, and each stage's mask contrast (rank 0)."""
        model = self.shipped_model()
        # The mask statistics come from rank 0's share of the batches.
        meter = MaskHealthMeter(model) if self.is_main and mask_modules(model) else None
        with meter or contextlib.nullcontext():
            metrics = self.evaluate_on(model, dataset)
        return metrics, stage_contrast(meter.summary()) if meter else {}

    def shipped_model(self) -> nn.Module:
        """The weights the run would ship: the EMA's, the average's once it holds a snapshot, else the model's."""
        return self.ema.module if holds_shipped_weights(self.ema, self.step) else self.model

    def averaging(self) -> bool:
        """Whether the run's weights are a weight average that holds at least one snapshot (before the averaged
        epochs begin, the run validates its own weights)."""
        return isinstance(self.ema, WeightAverage) and holds_shipped_weights(self.ema, self.step)

    def request_stop(self, signum: int, frame: Any) -> None:
        self.stop_vote.request()
        when = "within the next few steps (every process at the same one)" if self.dist.enabled else "this step"
        self.metrics.log(f"signal {signum}: saving a checkpoint at the end of {when}, then stopping")

    def resume(self) -> None:
        resumed = self.checkpoints.resume()
        if resumed is None:
            return
        self.step, self.best_top1, self.wall_before = resumed.step, resumed.best_top1, resumed.wall_s
        self.pending_rng = resumed.rng
        self.metrics.keep_rows_up_to(self.step)
        self.metrics.log(f"resumed from {resumed.path} at step {self.step}/{self.total_iters}")

    def run(self) -> dict[str, Any]:
        cfg = self.cfg
        if self.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            save_yaml(cfg, self.out / "config.yaml")
        self.resume()
        val = f"{len(self.data['val'])} val images" if self.validates else "no validation images (final weights kept)"
        self.metrics.log(f"{cfg.model} on {cfg.dataset}: {len(self.data['train'])} train / {val}, {self.total_iters} "
                         f"iterations of {cfg.batch_size} on {self.dist.world_size} "
                         f"process(es), device {self.device}, amp {cfg.amp}")
        if self.amp_warning:
            self.metrics.log(self.amp_warning)
        if cfg.label_noise:
            self.metrics.log(f"label noise: requested {cfg.label_noise:.3f}, realised "
                             f"{self.data['realised_noise']:.4f}")
        self.metrics.open(show_bar=cfg.progress == "bar" or (cfg.progress == "auto" and sys.stderr.isatty()),
                          step=self.step)
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
            self.metrics.log(f"stopped: {err}. The last good checkpoint is {self.out / 'last.pt'}")
            raise
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.metrics.close()
            shut_down_workers(self.train_loader)
        if self.stop_requested and self.step < self.total_iters:
            self.metrics.log(f"stopped at step {self.step}; continue with --resume auto --output {self.out}")
            return dict(stopped_at=self.step)
        return self.finish()

    def finish(self) -> dict[str, Any]:
        results: dict[str, Any] = dict(model=self.cfg.model, dataset=self.cfg.dataset, iterations=self.total_iters,
                                       best_val_top1=self.best_top1 if self.validates else None,
                                       wall_s=round(self.wall(), 1),
                                       realised_label_noise=self.data["realised_noise"])
        weights, best_step = self.checkpoints.export_selected(self.step)
        results.update(best_step=best_step)  # the step of best.pt, selected on the validation split (else the last)
        selected = f"checkpoint of step {best_step} selected on validation" if self.validates else "the final weights"
        if self.cfg.test:
            # The test split is evaluated once, on the checkpoint selected on the validation split, by every rank.
            model = create_model(self.cfg.model, **self.model_args).to(self.device)
            if self.is_main:
                model.load_state_dict(weights)
            broadcast_module(model)
            if self.cfg.channels_last:
                model = model.to(memory_format=torch.channels_last)
            test = self.evaluate_on(model, self.data["test"])
            results.update(test_top1=round(test["top1"], 3), test_top5=round(test["top5"], 3),
                           test_loss=round(test["loss"], 5), test_images=test["images"])
            self.metrics.log(f"test top-1 {test['top1']:.2f}%  top-5 {test['top5']:.2f}% ({test['images']} images, "
                             f"{selected})  wall {results['wall_s']:.0f} s")
        if self.is_main:
            (self.out / "results.json").write_text(json.dumps(results, indent=2))
        barrier()
        return results


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train ``cfg.model`` on ``cfg.dataset``; returns the final metrics (also written to results.json)."""
    run = Run(cfg)
    try:
        return run.run()
    finally:
        cleanup()
