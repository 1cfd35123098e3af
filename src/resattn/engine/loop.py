"""``train_one_epoch`` and ``evaluate``: plain functions, no argparse, no file I/O."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the trainer stops and keeps the last good checkpoint."""


@dataclass
class StepContext:
    """What one optimisation step needs besides the model and the batch."""

    optimizer: torch.optim.Optimizer
    lr_at: Callable[[int], float]
    device: torch.device
    amp_dtype: torch.dtype | None = None
    scaler: torch.amp.GradScaler | None = None
    grad_accum: int = 1
    channels_last: bool = False
    label_smoothing: float = 0.0
    ema: nn.Module | None = None  # timm ModelEmaV3-like: .update(model, step=...)


def autocast(device: torch.device, dtype: torch.dtype | None):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def _to_device(x: torch.Tensor, y: torch.Tensor, ctx_device: torch.device, channels_last: bool):
    x = x.to(ctx_device, non_blocking=True)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, y.to(ctx_device, non_blocking=True)


def train_one_epoch(
    model: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    ctx: StepContext,
    step: int,
    max_steps: int,
    on_step: Callable[[int, torch.Tensor, int], bool] | None = None,
) -> int:
    """Run optimisation steps over ``batches`` (this rank's share of each global batch) until they or
    ``max_steps`` run out. Returns the next step index.

    ``on_step(step, loss, images)`` is called after every step with the step's loss as a 0-d tensor on the device;
    returning True stops the epoch early (used for evaluation, checkpoints and a requested shutdown by the caller).

    On the CPU a non-finite loss raises :class:`NonFiniteLossError` before its backward pass. On an accelerator the
    loss stays on the device (reading it every step would stall the launch queue): the caller checks it with
    :func:`check_finite` whenever it reads it, and before every checkpoint.
    """
    model.train()
    no_sync = getattr(model, "no_sync", None)
    check_each_step = ctx.device.type == "cpu"  # .item() costs nothing there: nothing is queued
    for x, y in batches:
        if step >= max_steps:
            break
        lr = ctx.lr_at(step)
        for group in ctx.optimizer.param_groups:
            group["lr"] = lr
        micro_x, micro_y = x.chunk(ctx.grad_accum), y.chunk(ctx.grad_accum)
        step_loss = torch.zeros((), device=ctx.device)
        for i, (mx, my) in enumerate(zip(micro_x, micro_y, strict=True)):
            mx, my = _to_device(mx, my, ctx.device, ctx.channels_last)
            last = i == len(micro_x) - 1
            # DDP all-reduces gradients only on the last micro-batch of a step.
            sync = contextlib.nullcontext() if (last or no_sync is None) else no_sync()
            with sync:
                with autocast(ctx.device, ctx.amp_dtype):
                    loss = F.cross_entropy(model(mx), my, label_smoothing=ctx.label_smoothing)
                if check_each_step:
                    check_finite(loss.item(), step)
                scaled = loss * (mx.shape[0] / x.shape[0])  # mean over the whole step's batch
                (ctx.scaler.scale(scaled) if ctx.scaler else scaled).backward()
            step_loss += scaled.detach().float()
        if ctx.scaler:
            ctx.scaler.step(ctx.optimizer)
            ctx.scaler.update()
        else:
            ctx.optimizer.step()
        ctx.optimizer.zero_grad(set_to_none=True)
        if ctx.ema is not None:
            ctx.ema.update(model, step=step)
        step += 1
        if on_step is not None and on_step(step, step_loss, x.shape[0]):
            break
    return step


def check_finite(loss: float, step: int, every: int = 1) -> None:
    """Raise :class:`NonFiniteLossError` if ``loss`` (read at ``step``, covering the last ``every`` steps) is not
    finite."""
    if not math.isfinite(loss):
        where = f"at step {step}" if every == 1 else f"within the {every} steps before step {step}"
        raise NonFiniteLossError(f"The training loss became {loss} {where}; lower --lr, or try without --amp")


@torch.no_grad()
def evaluate(
    model: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    device: torch.device,
    amp_dtype: torch.dtype | None = None,
    channels_last: bool = False,
) -> dict[str, float]:
    """Loss, top-1 and top-5 accuracy (percent) over ``batches``."""
    model.eval()
    start = time.perf_counter()
    sums = [batch_sums(model, x, y, device, amp_dtype, channels_last) for x, y in batches]
    return metrics_from_sums(sums, time.perf_counter() - start)


@torch.no_grad()
def batch_sums(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    device: torch.device,
    amp_dtype: torch.dtype | None = None,
    channels_last: bool = False,
) -> tuple[float, int, int, int]:
    """``(summed loss, top-1 hits, top-5 hits, images)`` of one batch (``model`` already in eval mode)."""
    x, y = _to_device(x, y, device, channels_last)
    with autocast(device, amp_dtype):
        logits = model(x)
    logits = logits.float()
    top = logits.topk(min(5, logits.shape[1]), dim=1).indices
    hits = top.eq(y[:, None])
    return (F.cross_entropy(logits, y, reduction="sum").item(), int(hits[:, 0].sum().item()),
            int(hits.any(dim=1).sum().item()), int(y.shape[0]))


def metrics_from_sums(sums: Sequence[Sequence[float]], seconds: float) -> dict[str, float]:
    """The metrics of ``evaluate`` from its per-batch sums, added in batch order.

    One order of additions for every caller: a distributed evaluation that collects the same per-batch sums gets
    the same floats as a one-process one.
    """
    loss_sum, correct1, correct5, count = 0.0, 0, 0, 0
    for loss, top1, top5, images in sums:
        loss_sum += loss
        correct1 += int(top1)
        correct5 += int(top5)
        count += int(images)
    if count == 0:
        raise ValueError("evaluate() got no batches")
    return dict(
        loss=loss_sum / count, top1=100.0 * correct1 / count, top5=100.0 * correct5 / count, images=count,
        seconds=seconds,
    )
