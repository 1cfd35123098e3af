#!/usr/bin/env bash
# The Fashion-MNIST release recipe, configs/fashion_mnist_release.yaml: 80 epochs in one cosine schedule, selected on
# the validation split. The released weights (timm tag attention56_cifar.fmnist) were made with
#   ./scripts/train_release.sh runs/release --val-split 0 --mask-weight-decay 5e-4 --mask-head-weight-decay 0
# Resumable: rerun the same command after a stop. docs/reproduction.md#released-weights has the record.
#
#   ./scripts/train_release.sh [OUTPUT] [FLAGS...]   # default runs/release_fmnist; FLAGS go to `resattn train`
#
# On a CPU, batches of 512 28x28 images made glibc map and unmap their 50 MiB activations every step (100% system
# time in top); the two MALLOC_ variables keep that memory in the heap (on the 2-core machine of the first release,
# 1.1 to 1.2 s per step instead of 3 to 4 s; docs/reproduction.md). Expect hours on a CPU: 5 to 11 on 2 cores
# without AMX, by CPU (docs/reproduction.md).
set -euo pipefail
OUT=runs/release_fmnist
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then  # a first argument that is not a flag names the output folder
  OUT=$1
  shift
fi
export MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000
"${PYTHON:-python3}" -m resattn train -c fashion_mnist_release --output "$OUT" --resume auto "$@"
