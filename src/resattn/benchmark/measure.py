"""Timing and memory primitives: median wall time of repeated calls, saved-activation bytes of a training step."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn


def _sync_for(device: torch.device) -> Callable[[], None]:
    return torch.cuda.synchronize if device.type == "cuda" else (lambda: None)


def _autocast(device: torch.device, dtype: torch.dtype | None):
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


def _interleaved_medians(steps: dict[str, Callable[[], None]], sync: Callable[[], None], warmup: int,
                         repeats: int) -> dict[str, float]:
    """Median seconds of each step, timing the steps in turn, round after round.

    Interleaving puts every case under the same machine conditions (other jobs, clock changes), so their ratios
    are steadier than those of back-to-back blocks of repeats.
    """
    for step in steps.values():
        for _ in range(warmup):
            step()
        sync()
    times: dict[str, list[float]] = {key: [] for key in steps}
    for _ in range(repeats):
        for key, step in steps.items():
            start = time.perf_counter()
            step()
            sync()
            times[key].append(time.perf_counter() - start)
    return {key: statistics.median(t) for key, t in times.items()}


def interleaved_inference(
    cases: dict[str, tuple[nn.Module, torch.Tensor, torch.dtype | None]], warmup: int = 2, repeats: int = 5
) -> dict[str, float]:
    """Median seconds of one forward per case (model, input, autocast dtype), the cases timed in turn."""
    steps = {}
    for key, (model, x, amp_dtype) in cases.items():
        model.eval()

        def step(model=model, x=x, amp_dtype=amp_dtype) -> None:
            with torch.inference_mode(), _autocast(x.device, amp_dtype):
                model(x)

        steps[key] = step
    return _interleaved_medians(steps, _sync_for(next(iter(cases.values()))[1].device), warmup, repeats)


def interleaved_training(
    cases: dict[str, tuple[nn.Module, torch.Tensor, torch.Tensor, torch.dtype | None]], warmup: int = 2,
    repeats: int = 5,
) -> dict[str, float]:
    """Median seconds of one SGD step (forward, cross-entropy, backward, update) per case (model, input, labels,
    autocast dtype), the cases timed in turn."""
    steps = {}
    for key, (model, x, y, amp_dtype) in cases.items():
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

        def step(model=model, x=x, y=y, amp_dtype=amp_dtype, opt=opt) -> None:
            with _autocast(x.device, amp_dtype):
                loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        steps[key] = step
    return _interleaved_medians(steps, _sync_for(next(iter(cases.values()))[1].device), warmup, repeats)


def time_training(model: nn.Module, x: torch.Tensor, y: torch.Tensor, amp_dtype: torch.dtype | None = None,
                  warmup: int = 2, repeats: int = 5) -> float:
    """Median seconds of one SGD step of one model (``interleaved_training`` with a single case)."""
    return interleaved_training({"model": (model, x, y, amp_dtype)}, warmup, repeats)["model"]


def activation_bytes(model: nn.Module, x: torch.Tensor, amp_dtype: torch.dtype | None = None) -> int:
    """Bytes of the tensors autograd saves for backward in one training forward (device independent).

    Parameters are excluded (they exist whether or not we train); each saved tensor storage is counted once, so views
    and tensors saved by two operators are not double counted. With gradient checkpointing only the checkpoint
    inputs are saved during the forward; see ``checkpointed_peak_bytes`` for the recomputation on top.
    """
    model.train()
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        ptr = storage.data_ptr()
        if ptr not in params:
            seen[ptr] = max(seen.get(ptr, 0), storage.nbytes())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), _autocast(x.device, amp_dtype):
        out = model(x)
    del out
    return sum(seen.values())


def checkpointed_peak_bytes(model: nn.Module, x: torch.Tensor) -> int:
    """Activation bytes of a gradient-checkpointed training step at its peak.

    The forward keeps only each block's input; the backward then recomputes one block at a time, so the peak is the
    kept inputs plus the largest single block's saved activations.
    """
    blocks = [b for stage in model.stages for b in stage.blocks]
    inputs: dict[int, torch.Tensor] = {}
    hooks = [b.register_forward_pre_hook(lambda m, a, i=i: inputs.__setitem__(i, a[0].detach())) for i, b in
             enumerate(blocks)]
    try:
        model.set_grad_checkpointing(True)
        kept = activation_bytes(model, x)
    finally:
        for h in hooks:
            h.remove()
        model.set_grad_checkpointing(False)
    largest = max(activation_bytes(b, inputs[i].requires_grad_()) for i, b in enumerate(blocks))
    return kept + largest


class GraphedForward(nn.Module):
    """Replays one CUDA-graph capture of ``model(x)``: a single launch instead of hundreds of small kernels.

    For latency measurement at a fixed input (shape and address). Call it with the captured input, in
    ``torch.inference_mode()``; the output buffer is overwritten by each replay.
    """

    def __init__(self, model: nn.Module, x: torch.Tensor, amp_dtype: torch.dtype | None = None) -> None:
        super().__init__()
        model.eval()
        self.model, self.x = model, x
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side), torch.inference_mode(), _autocast(x.device, amp_dtype):
            for _ in range(3):  # warm-up outside the capture: cuDNN picks its kernels, workspaces are allocated
                model(x)
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph), torch.inference_mode(), _autocast(x.device, amp_dtype):
            self.out = model(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.data_ptr() != self.x.data_ptr():
            raise ValueError("GraphedForward replays its captured input only")
        self.graph.replay()
        return self.out


def peak_training_bytes(model: nn.Module, x: torch.Tensor, y: torch.Tensor, amp_dtype: torch.dtype | None = None
                        ) -> int:
    """Peak CUDA memory allocated above the model's own (parameters, gradients) during one training step."""
    model.train()
    loss = nn.functional.cross_entropy(model(x), y)  # first step: allocate gradients, cuDNN workspaces
    loss.backward()
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    with _autocast(x.device, amp_dtype):
        loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    torch.cuda.synchronize()
    model.zero_grad(set_to_none=True)
    return torch.cuda.max_memory_allocated() - base
