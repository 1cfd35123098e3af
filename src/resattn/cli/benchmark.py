"""``resattn benchmark``: latency, throughput and memory beside references measured in the same run."""

from __future__ import annotations

import argparse


def add_benchmark_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="attention56", help="inference model (default attention56)")
    p.add_argument("--img-size", type=int, default=224)
    p.add_argument("-b", "--batch-size", type=int, default=8)
    p.add_argument("--modes", nargs="+", default=["fp32", "channels_last", "bf16"],
                   help="fp32 channels_last bf16 folded folded_bf16 compile compile_bf16 frozen frozen_bf16 "
                        "onnxruntime, and on a GPU cudagraph cudagraph_bf16 (compile and frozen: torch.compile, "
                        "minutes on a CPU; frozen adds inductor's weight freezing, inference only)")
    p.add_argument("--train-model", default="attention92_cifar",
                   help="training model (reference: preact_resnet164_cifar for *_cifar, else ResNet-50)")
    p.add_argument("--train-size", type=int, default=32, help="training input size (default 32)")
    p.add_argument("--train-batch", type=int, default=64)
    p.add_argument("--memory-model", default="attention92")
    p.add_argument("--sections", nargs="+", default=["inference", "training", "memory"],
                   choices=["inference", "training", "memory"])
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--json", help="also write every number to this JSON file")


def run_benchmark(args: argparse.Namespace) -> int:
    import torch

    from ..benchmark.suite import run_suite, save_json
    from ..models.factory import check_model_name

    for name in (args.model, args.train_model, args.memory_model):
        check_model_name(name)
    if args.threads:
        torch.set_num_threads(args.threads)
    results = run_suite(args.model, args.img_size, args.batch_size, tuple(args.modes), args.train_model,
                        args.train_batch, args.memory_model, args.train_size, args.device, args.warmup,
                        args.repeats, tuple(args.sections))
    if args.json:
        save_json(results, args.json)
        print(f"wrote {args.json}")
    return 0
