"""Operators one eager forward dispatches, attention56 beside torchvision ResNet-50 (docs/performance.md, GPU section).

    python benchmarks/op_count.py [--img-size 64]

In eager mode each dispatched operator is at least one kernel launch on a GPU, so at small batches the latency
follows this count rather than the multiply-adds.
"""

from __future__ import annotations

import argparse

import torch
import torchvision
from torch.utils._python_dispatch import TorchDispatchMode

import resattn


class _Count(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops += 1
        return func(*args, **(kwargs or {}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--img-size", type=int, default=64)
    args = p.parse_args()
    x = torch.randn(1, 3, args.img_size, args.img_size)
    for name, model in (("attention56", resattn.create_model("attention56")),
                        ("resnet50", torchvision.models.resnet50())):
        with torch.no_grad(), _Count() as count:
            model.eval()(x)
        print(f"{name}: {count.ops} operators per forward")


if __name__ == "__main__":
    main()
