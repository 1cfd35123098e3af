#!/usr/bin/env bash
# The benchmark tables of docs/performance.md on one GPU, as one command, with the compiled modes (not measured on
# a GPU so far), each step cut to its own time limit.
#
#   OUT=/tmp/gpu_bench ./scripts/gpu_bench.sh        # on a machine with one CUDA GPU, from the repo root
#   DEVICE=cpu INF_MODES="fp32 frozen_bf16" OUT=/tmp/gpu_bench_dry ./scripts/gpu_bench.sh   # dry run on a CPU
#
# Writes to $OUT: env.txt and, per step, NAME.md (the printed table) and NAME.json. About 9 minutes at most.
set -uo pipefail
OUT=${OUT:-/tmp/gpu_bench}
DEVICE=${DEVICE:-cuda}
INF_MODES=${INF_MODES:-fp32 bf16 cudagraph_bf16 compile_bf16 frozen_bf16}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
RA="python3 -m resattn"
{ nvidia-smi 2>&1 | head -15; python3 -c "import torch; print('torch', torch.__version__)"; nproc; } > "$OUT/env.txt"

step() {  # step NAME SECONDS ARGS...: one `resattn benchmark` call under a time limit
  local name=$1 limit=$2
  shift 2
  echo "[$(date +%T)] $name (at most $limit s)"
  timeout "$limit" $RA benchmark --device "$DEVICE" --json "$OUT/$name.json" "$@" > "$OUT/$name.md" 2>&1
  echo "  exit $?"; grep -v "^W[0-9]" "$OUT/$name.md" | tail -15
}

step inference 240 --sections inference --model attention56 --img-size 224 -b 8 \
  --modes $INF_MODES --repeats 30 --warmup 5
step train32 150 --sections training memory --train-model attention92_cifar --train-batch 64 \
  --memory-model attention92 --modes fp32 channels_last bf16 compile_bf16 --repeats 10 --warmup 3
step train224 120 --sections training --train-model attention56 --train-size 224 --train-batch 32 \
  --modes channels_last bf16 compile_bf16 --repeats 10 --warmup 3
