#!/usr/bin/env bash
# The table of docs/performance.md: the CPU modes of `resattn benchmark` (all but plain compile, which frozen
# supersedes for inference), with the references measured in the same run (torchvision ResNet-50 / ResNet-152 for
# inference, preact_resnet164_cifar for training). About 5 minutes on 2 cores, compilation included.
set -euo pipefail
OUT=${OUT:-docs/benchmarks}
mkdir -p "$OUT"
resattn benchmark --model attention56 --img-size 224 -b 8 \
  --modes fp32 channels_last bf16 folded folded_bf16 frozen frozen_bf16 onnxruntime --repeats 15 --warmup 3 \
  --train-model attention92_cifar --train-batch 64 --memory-model attention92 \
  --json "$OUT/cpu.json" | tee "$OUT/cpu.md"
