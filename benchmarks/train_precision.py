"""bf16 autocast against fp32 for the default run's training step, on this machine's CPU.

    python benchmarks/train_precision.py [--batch-size 128] [--repeats 5]

attention56_cifar with one input channel at 28x28 (the default ``resattn train``), channels_last, one SGD step per
timing, the two precisions timed in turn in one process. Prints whether the CPU has bf16 instructions, what
``--amp auto`` takes here, the median seconds per step and the ratio bf16 / fp32 (above 1: bf16 is slower).
"""

from __future__ import annotations

import argparse

import torch

import resattn
from resattn.benchmark import interleaved_training
from resattn.engine.precision import resolve_amp


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    cpu = torch.device("cpu")
    caps = torch.cpu.get_capabilities()
    flags = {name: caps.get(name, False) for name in ("avx2", "avx512_f", "avx512_bf16", "amx_bf16")}
    print(f"CPU {caps.get('cpu_name', '?')}, {torch.get_num_threads()} threads, {flags}; "
          f"--amp auto takes {resolve_amp('auto', cpu)}")
    torch.manual_seed(0)
    model = resattn.create_model("attention56_cifar", in_chans=1, num_classes=10)
    model = model.to(memory_format=torch.channels_last)
    x = torch.randn(args.batch_size, 1, 28, 28).to(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (args.batch_size,))
    secs = interleaved_training({"fp32": (model, x, y, None), "bf16": (model, x, y, torch.bfloat16)}, args.warmup,
                                args.repeats)
    print(f"training step, batch {args.batch_size}: fp32 {secs['fp32']:.3f} s, bf16 {secs['bf16']:.3f} s, "
          f"bf16 / fp32 = {secs['bf16'] / secs['fp32']:.2f}")


if __name__ == "__main__":
    main()
