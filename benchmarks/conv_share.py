"""How convolution-bound the fastest CPU mode is: attention56 beside ResNet-50, frozen + bf16, batch 8 at 224.

    python benchmarks/conv_share.py [--rounds 3]

Profiles ``compile_frozen`` + bf16 autocast forwards (torch.profiler) and prints, per network, the forward time,
the time in oneDNN convolutions and their multiply-add rate; then the floor this sets for attention56 (its
convolutions at ResNet-50's convolution rate, nothing else). Also counts the convolution and BN layers of the CIFAR
training pair (attention92_cifar, preact_resnet164_cifar), which sets their per-operator overhead.
Profiler times include its own overhead; read the shares, not the absolute milliseconds.
"""

from __future__ import annotations

import argparse
import time

import torch
import torchvision
from torch import nn
from torch.profiler import profile

import resattn
from resattn.export import compile_frozen
from resattn.utils.complexity import count_macs


def _profile_ms(model: nn.Module, x: torch.Tensor, rounds: int) -> tuple[float, float, float]:
    fast = compile_frozen(model.eval().to(memory_format=torch.channels_last))

    def run() -> None:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            fast(x)

    start = time.perf_counter()
    run()  # the first call compiles (inductor's cache may shorten it on a second run of the script)
    compile_s = time.perf_counter() - start
    for _ in range(2):
        run()
    with profile() as prof:
        for _ in range(rounds):
            run()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events) / rounds / 1e3
    conv = sum(e.self_cpu_time_total for e in events if "convolution" in e.key) / rounds / 1e3
    return total, conv, compile_s


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    torch.manual_seed(0)
    x = torch.randn(8, 3, 224, 224).contiguous(memory_format=torch.channels_last)
    rates = {}
    for name, model in (("attention56", resattn.create_model("attention56")),
                        ("resnet50", torchvision.models.resnet50())):
        gmac = x.shape[0] * count_macs(model, (3, 224, 224)) / 1e9
        total, conv, compile_s = _profile_ms(model, x, args.rounds)
        rates[name] = (gmac, gmac / conv * 1e3)
        print(f"{name}: forward {total:.1f} ms, convolutions {conv:.1f} ms ({conv / total:.0%}), "
              f"{rates[name][1]:.0f} GMAC/s in the convolutions; first call (compilation) {compile_s:.0f} s")
    floor = rates["attention56"][0] / rates["resnet50"][1] * 1e3
    print(f"attention56's convolutions at ResNet-50's convolution rate, nothing else: {floor:.1f} ms")
    for name in ("attention92_cifar", "preact_resnet164_cifar"):
        model = resattn.create_model(name, num_classes=10)
        convs = sum(isinstance(m, nn.Conv2d) for m in model.modules())
        bns = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
        print(f"{name}: {convs} convolutions, {bns} BNs, {count_macs(model, (3, 32, 32)) / 1e9:.3f} GMAC at 32x32")


if __name__ == "__main__":
    main()
