"""The benchmark suite behind ``resattn benchmark``: every figure beside references measured in the same run.

* inference: latency of ``model`` at batch B and the ``--img-size``, beside torchvision ResNet-50 and ResNet-152,
  per mode (fp32 eager, channels_last, bf16 autocast + channels_last, optionally BN folding, torch.compile with
  or without freezing, CUDA graphs and onnxruntime);
  ratios are against ResNet-50 in fp32 eager (the reference of the speed targets in docs/performance.md) and per
  multiply-add;
* training: images/s of a net at ``--train-size`` beside a reference in the same mode, per multiply-add:
  ``preact_resnet164_cifar`` for the CIFAR nets, torchvision ResNet-50 for the ImageNet ones (modes fp32,
  channels_last, bf16, compile and compile_bf16; the others are inference only);
* memory: saved-activation bytes per training image, with and without gradient checkpointing, beside ResNet-152;
  on a GPU also the measured peak memory of a training step.

A mode that fails (say, a CUDA-graph capture an older PyTorch refuses) is reported in its row and the suite goes on.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ..models.factory import create_model
from ..models.residual_attention import ResidualAttentionNet
from ..utils.complexity import count_macs
from .measure import (
    GraphedForward,
    activation_bytes,
    checkpointed_peak_bytes,
    interleaved_inference,
    interleaved_training,
    peak_training_bytes,
)

INFERENCE_MODES = ("fp32", "channels_last", "bf16", "folded", "folded_bf16", "compile", "compile_bf16", "frozen",
                   "frozen_bf16", "cudagraph", "cudagraph_bf16", "onnxruntime")
CUDA_ONLY_MODES = ("cudagraph", "cudagraph_bf16")
TRAIN_MODES = ("fp32", "channels_last", "bf16", "compile", "compile_bf16")


def _torchvision(name: str) -> nn.Module:
    import torchvision

    return getattr(torchvision.models, name)(weights=None)


def _prepare(model: nn.Module, x: torch.Tensor, mode: str) -> tuple[nn.Module, torch.Tensor, torch.dtype | None]:
    """The model, input and autocast dtype of a mode (a fresh compiled wrapper for "compile").

    The "folded" modes fold every BN that directly follows a convolution (inference only) in resattn models, then run
    channels_last; torchvision references run plain channels_last there. The "frozen" modes are ``torch.compile``
    with inductor's freezing (inference only), applied alike to every network.
    """
    if mode == "fp32":
        return model.to(memory_format=torch.contiguous_format), x.contiguous(), None
    if mode.startswith("folded") and isinstance(model, ResidualAttentionNet):
        from ..export.fold import fold_batchnorm

        model = fold_batchnorm(model)
    model = model.to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)
    amp = torch.bfloat16 if mode == "bf16" or mode.endswith("_bf16") else None
    if mode.startswith("cudagraph"):  # channels_last (+ bf16), captured once and replayed
        return GraphedForward(model, x, amp), x, amp
    if mode.startswith("compile"):
        return torch.compile(model), x, amp
    if mode.startswith("frozen"):
        # Inductor's inference freezing (export/frozen.py: BNs folded, conv weights pre-packed for oneDNN).
        from ..export.frozen import compile_frozen

        return compile_frozen(model), x, amp
    return model, x, amp


def _onnx_latency(model: nn.Module, x: torch.Tensor, warmup: int, repeats: int) -> float:
    import statistics
    import tempfile
    import time
    from pathlib import Path

    import onnxruntime as ort

    from ..export.onnx import export_onnx

    with tempfile.TemporaryDirectory() as tmp:
        path = export_onnx(model.eval(), Path(tmp) / "model.onnx", input_size=tuple(x.shape[1:]))
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feed = {session.get_inputs()[0].name: x.contiguous().numpy()}
        for _ in range(warmup):
            session.run(None, feed)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            session.run(None, feed)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_suite(
    model_name: str = "attention56",
    img_size: int = 224,
    batch_size: int = 8,
    modes: tuple[str, ...] = ("fp32", "channels_last", "bf16"),
    train_model: str = "attention92_cifar",
    train_batch: int = 64,
    memory_model: str = "attention92",
    train_size: int = 32,
    device: str = "cpu",
    warmup: int = 2,
    repeats: int = 5,
    sections: tuple[str, ...] = ("inference", "training", "memory"),
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the suite and print three tables; returns every number (also for ``--json``)."""
    unknown = [m for m in modes if m not in INFERENCE_MODES]
    if unknown:
        raise ValueError(f"Unknown benchmark modes {unknown}; allowed: {', '.join(INFERENCE_MODES)}")
    dev = torch.device(device)
    if dev.type != "cuda" and any(m in CUDA_ONLY_MODES for m in modes):
        raise ValueError(f"Modes {', '.join(CUDA_ONLY_MODES)} need --device cuda")
    torch.manual_seed(0)
    results: dict[str, Any] = dict(
        hardware=dict(device=str(dev), cpu=platform.processor() or platform.machine(), threads=torch.get_num_threads(),
                      torch=torch.__version__, cuda=torch.cuda.get_device_name(dev) if dev.type == "cuda" else None),
        settings=dict(model=model_name, img_size=img_size, batch_size=batch_size, train_model=train_model,
                      train_batch=train_batch, train_size=train_size, warmup=warmup, repeats=repeats),
    )
    if "inference" in sections:
        results["inference"] = _inference(model_name, img_size, batch_size, modes, dev, warmup, repeats, log)
    if "training" in sections:
        train_modes = tuple(m for m in modes if m in TRAIN_MODES)  # folding, freezing, onnxruntime: inference only
        if train_modes:
            results["training"] = _training(train_model, train_size, train_batch, train_modes, dev, warmup, repeats,
                                            log)
        else:
            log(f"\nTraining skipped: none of the modes {', '.join(modes)} trains (training modes: "
                f"{', '.join(TRAIN_MODES)})")
            results["training"] = []
    if "memory" in sections:
        results["memory"] = _memory(memory_model, img_size, dev, log)
    return results


def _inference(name, size, batch, modes, dev, warmup, repeats, log) -> list[dict]:
    nets = {name: create_model(name), "resnet50": _torchvision("resnet50"), "resnet152": _torchvision("resnet152")}
    macs = {k: count_macs(m, (3, size, size)) for k, m in nets.items()}
    x = torch.randn(batch, 3, size, size, device=dev)
    rows, base = [], None
    log(f"\nInference, batch {batch} at {size}x{size} on {dev} ({torch.get_num_threads()} threads): latency in ms")
    log(f"| mode | {name} | resnet50 | resnet152 | {name} / resnet50 fp32 | {name} / resnet50 same mode | "
        f"GMAC/s {name} | GMAC/s resnet50 |")
    log("|---|---|---|---|---|---|---|---|")
    for mode in modes:
        try:
            if mode == "onnxruntime":
                lat = {key: _onnx_latency(net.to(dev), x.cpu(), warmup, repeats) for key, net in nets.items()}
            else:
                lat = interleaved_inference({key: _prepare(net.to(dev), x, mode) for key, net in nets.items()},
                                            warmup, repeats)
        except Exception as err:  # one broken mode must not cost the others' numbers
            rows.append(dict(mode=mode, error=f"{type(err).__name__}: {err}"))
            log(f"| {mode} | failed: {type(err).__name__}: {str(err)[:200]} |")
            continue
        if mode == "fp32":
            base = lat["resnet50"]
        ref = base if base is not None else lat["resnet50"]  # without an fp32 row: the same mode
        gmacs = {k: batch * macs[k] / lat[k] / 1e9 for k in lat}
        row = dict(mode=mode, latency_ms={k: round(v * 1e3, 2) for k, v in lat.items()},
                   ratio_vs_resnet50_fp32=round(lat[name] / ref, 3),
                   ratio_vs_resnet50_same_mode=round(lat[name] / lat["resnet50"], 3),
                   gmac_per_s={k: round(v, 1) for k, v in gmacs.items()})
        rows.append(row)
        log(f"| {mode} | {lat[name] * 1e3:.1f} | {lat['resnet50'] * 1e3:.1f} | {lat['resnet152'] * 1e3:.1f} | "
            f"{row['ratio_vs_resnet50_fp32']:.2f} | {row['ratio_vs_resnet50_same_mode']:.2f} | "
            f"{gmacs[name]:.0f} | {gmacs['resnet50']:.0f} |")
    log(f"(multiply-adds per image: {name} {macs[name] / 1e9:.2f} G, resnet50 {macs['resnet50'] / 1e9:.2f} G, "
        f"resnet152 {macs['resnet152'] / 1e9:.2f} G)")
    return rows


def _training(name, size, batch, modes, dev, warmup, repeats, log) -> list[dict]:
    cifar = name.endswith("_cifar")
    ref_name = "preact_resnet164_cifar" if cifar else "resnet50"
    classes = 10 if cifar else 1000
    nets = {name: create_model(name, num_classes=classes),
            ref_name: create_model(ref_name, num_classes=classes) if cifar else _torchvision(ref_name)}
    macs = {k: count_macs(m, (3, size, size)) for k, m in nets.items()}
    x = torch.randn(batch, 3, size, size, device=dev)
    y = torch.randint(0, classes, (batch,), device=dev)
    rows = []
    log(f"\nTraining, batch {batch} at {size}x{size}: images/s and images/s x multiply-adds (GMAC/s, forward MACs)")
    log(f"| mode | {name} img/s | {ref_name} img/s | {name} GMAC/s | {ref_name} GMAC/s | per-MAC ratio |")
    log("|---|---|---|---|---|---|")
    for mode in modes:
        try:
            cases = {key: _prepare(net.to(dev), x, mode) for key, net in nets.items()}
            secs = interleaved_training({k: (m, xin, y, amp) for k, (m, xin, amp) in cases.items()}, warmup, repeats)
            ips = {key: batch / s for key, s in secs.items()}
        except Exception as err:
            rows.append(dict(mode=mode, error=f"{type(err).__name__}: {err}"))
            log(f"| {mode} | failed: {type(err).__name__}: {str(err)[:200]} |")
            continue
        gm = {k: ips[k] * macs[k] / 1e9 for k in ips}
        row = dict(mode=mode, images_per_s={k: round(v, 1) for k, v in ips.items()},
                   gmac_per_s={k: round(v, 1) for k, v in gm.items()}, per_mac_ratio=round(gm[name] / gm[ref_name], 3))
        rows.append(row)
        log(f"| {mode} | {ips[name]:.0f} | {ips[ref_name]:.0f} | {gm[name]:.1f} | {gm[ref_name]:.1f} | "
            f"{row['per_mac_ratio']:.2f} |")
    return rows


def _memory(name, size, dev, log) -> dict:
    x = torch.randn(2, 3, size, size, device=dev)  # 2 images: train-mode BN needs more than one value per channel
    model, ref = create_model(name).to(dev), _torchvision("resnet152").to(dev)
    plain = activation_bytes(model, x) / 2
    ckpt = checkpointed_peak_bytes(model, x) / 2
    r152 = activation_bytes(ref, x) / 2
    mib = 2**20
    log(f"\nTraining activation memory per image at {size}x{size} (bytes autograd saves; checkpointed: kept block "
        f"inputs + the largest block recomputed in the backward)")
    log(f"| {name} | {name} + grad checkpointing | resnet152 | checkpointed / resnet152 |")
    log("|---|---|---|---|")
    log(f"| {plain / mib:.0f} MiB | {ckpt / mib:.0f} MiB | {r152 / mib:.0f} MiB | {ckpt / r152:.2f} |")
    result = dict(model_mib=round(plain / mib, 1), checkpointed_mib=round(ckpt / mib, 1),
                  resnet152_mib=round(r152 / mib, 1), checkpointed_vs_resnet152=round(ckpt / r152, 3))
    if dev.type == "cuda":
        result["cuda_peak_batch8_mib"] = _cuda_peaks(model, ref, size, dev, log)
    return result


def _cuda_peaks(model, ref, size, dev, log) -> dict[str, float]:
    """Measured peak memory of a training step at batch 8 (fp32, and bf16 autocast), above the weights and
    gradients: the batch the original code's users report running out of memory with on 8 GB cards."""
    x, y = torch.randn(8, 3, size, size, device=dev), torch.randint(0, 1000, (8,), device=dev)
    peaks = {}
    for label, net, ckpt in (("model", model, False), ("model_checkpointed", model, True), ("resnet152", ref, False)):
        if hasattr(net, "set_grad_checkpointing"):
            net.set_grad_checkpointing(ckpt)
        for amp_name, amp in (("fp32", None), ("bf16", torch.bfloat16)):
            peaks[f"{label}_{amp_name}"] = round(peak_training_bytes(net, x, y, amp) / 2**20, 1)
    if hasattr(model, "set_grad_checkpointing"):
        model.set_grad_checkpointing(False)
    log("\nMeasured CUDA peak memory of one training step at batch 8, above weights and gradients (MiB)")
    log("| " + " | ".join(peaks) + " |")
    log("|" + "---|" * len(peaks))
    log("| " + " | ".join(f"{v:.0f}" for v in peaks.values()) + " |")
    return peaks


def save_json(results: dict[str, Any], path: str) -> None:
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
