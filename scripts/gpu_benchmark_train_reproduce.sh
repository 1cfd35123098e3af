#!/usr/bin/env bash
# One GPU's measurements as one command that ends within DEADLINE seconds: a CUDA smoke test, the GPU benchmark
# table alone on the card, then the release training of the Fashion-MNIST weights beside the reproduction grids of
# Tables 1, 3 and 5, each sized to what is left of DEADLINE.
#
#   OUT=/tmp/gpu DEADLINE=540 ./scripts/gpu_benchmark_train_reproduce.sh   # one CUDA GPU, from the repo root
#
# Writes to $OUT: env.txt, gpu.tar.gz (benchmark tables and JSON, logs, the release run folder without its optimizer
# checkpoints, the grids' run folders without weights) and attention56_cifar_fmnist.safetensors.
# Fashion-MNIST is read from $RESATTN_DATA (default .fmnist/ in the repo); wheels in .whl/ are installed first.
set -uo pipefail
START=$(date +%s)
DEADLINE=${DEADLINE:-540}
OUT=${OUT:-/tmp/gpu_out}
W=${WORK:-/tmp/resattn_gpu}
SEEDS=${SEEDS:-2}
TABLE_PROCS=${TABLE_PROCS:-6}
DEVICE=${DEVICE:-cuda}  # DEVICE=cpu: a dry run of this script (the CUDA-graph rows then fail and say so)
elapsed() { echo $(( $(date +%s) - START )); }
left() { echo $(( DEADLINE - $(elapsed) )); }
mkdir -p "$OUT" "$W"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2 RESATTN_DATA=${RESATTN_DATA:-$PWD/.fmnist}
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
RA="python3 -m resattn"
pack() {
  find "$W/repro" \( -name "*.pt" -o -name "*.safetensors" -o -name claimed \) -delete 2>/dev/null
  [ -f "$W/release/best.safetensors" ] && cp "$W/release/best.safetensors" "$OUT/attention56_cifar_fmnist.safetensors"
  # without results.json the run was cut short: keep its best checkpoint to export by hand
  [ -f "$W/release/results.json" ] || { [ -f "$W/release/best.pt" ] && cp "$W/release/best.pt" "$OUT/release_best.pt"; }
  find "$W/release" -name "*.pt" -delete 2>/dev/null
  tar czf "$OUT/gpu.tar.gz" -C "$W" --exclude=smoke --exclude=probe . 2>/dev/null
  echo "packed at $(elapsed) s"
}

{ nvidia-smi; python3 -c "import torch, timm; print('torch', torch.__version__, 'timm', timm.__version__,
  torch.cuda.get_device_name())"; nproc; } > "$OUT/env.txt" 2>&1
echo "[$(elapsed) s] smoke test"
if ! $RA train --dataset fake --iters 4 --eval-interval 2 -b 16 --val-split 32 --device "$DEVICE" --output "$W/smoke" \
    --progress log > "$W/smoke.log" 2>&1; then
  cat "$W/smoke.log"; cp "$W/smoke.log" "$OUT/"; exit 1
fi

echo "[$(elapsed) s] benchmark: inference at 224 (batch 8), training attention92_cifar at 32, memory"
timeout 170 $RA benchmark --device "$DEVICE" --model attention56 --img-size 224 -b 8 \
  --modes fp32 channels_last bf16 cudagraph cudagraph_bf16 --repeats 30 --warmup 5 \
  --train-model attention92_cifar --train-batch 64 --memory-model attention92 --json "$W/gpu.json" \
  > "$W/gpu.md" 2>&1
echo "[$(elapsed) s] benchmark: attention56 training at 224 (batch 32)"
timeout 90 $RA benchmark --device "$DEVICE" --sections training --train-model attention56 --train-size 224 \
  --train-batch 32 --modes fp32 channels_last bf16 --repeats 10 --warmup 3 --json "$W/gpu_train224.json" \
  > "$W/gpu_train224.md" 2>&1
cat "$W/gpu.md" "$W/gpu_train224.md"

echo "[$(elapsed) s] reproduction grids: $TABLE_PROCS processes share tables 3, 1, 5 ($SEEDS seeds)"
TABLE_PIDS=()
for i in $(seq "$TABLE_PROCS"); do
  ( for t in table3 table1 table5; do
      $RA reproduce "$t" --seeds "$SEEDS" --parallel --device "$DEVICE" --output "$W/repro/$t"
    done ) > "$W/tables_$i.log" 2>&1 &
  TABLE_PIDS+=($!)
done

echo "[$(elapsed) s] release run: throughput probe"
timeout 90 python3 scripts/gpu/probe_train_speed.py -c configs/fashion_mnist_release.yaml --iters 300 \
  --device "$DEVICE" --output "$W/probe" --progress none > "$W/probe.log" 2>&1
IPS=$(tail -1 "$W/probe.log" | python3 -c "import json, sys; print(json.load(sys.stdin)['images_per_s'])" 2>/dev/null \
  || echo 0)
# 55,000 training images per epoch; keep 60 s for the last evaluation, the test pass, packing and slack
EPOCHS=$(python3 -c "print(max(10, min(150, int(($(left) - 60) * $IPS * 0.85 / 55000))))")
echo "[$(elapsed) s] release run: $IPS img/s under load -> $EPOCHS epochs"
RELEASE_LIMIT=$(( $(left) - 20 )); [ "$RELEASE_LIMIT" -lt 30 ] && RELEASE_LIMIT=30
timeout --signal=TERM "$RELEASE_LIMIT" $RA train -c configs/fashion_mnist_release.yaml --epochs "$EPOCHS" \
  --device "$DEVICE" --output "$W/release" --progress log > "$W/release.log" 2>&1
tail -3 "$W/release.log"

echo "[$(elapsed) s] stopping the grids, collecting the tables"
kill -TERM "${TABLE_PIDS[@]}" 2>/dev/null  # the loops first, so that they start no further table
pkill -TERM -f "resattn reproduce"; sleep 8; pkill -KILL -f "resattn reproduce"
for t in table3 table1 table5; do
  timeout 30 $RA reproduce "$t" --seeds "$SEEDS" --collect --output "$W/repro/$t" > "$W/collect_$t.log" 2>&1
  cat "$W/repro/$t/results.md" 2>/dev/null
done
pack
