#!/usr/bin/env bash
# What flattens the soft masks? Attention-56 (CIFAR layout) on Fashion-MNIST at a 1-epoch CPU budget, one factor
# changed per run against the no-argument recipe (lr 0.1, weight decay 5e-4, batch 128, cosine), then
# `resattn analyze masks` on the validation split of each run's best checkpoint. The test split is not evaluated.
#
#   ./scripts/mask_ablation.sh [OUTPUT]      # default runs/mask_ablation; resumable (rerun the same command)
#
# Scale-invariant weights (a convolution followed by BN, like the mask head's conv1) shrink under weight decay; the
# decay exposure 2 wd sum_t lr(t) measures how much (scripts/mask_ablation_table.py prints it per run). One epoch of
# the default recipe has 0.02, the 80-epoch release recipe with decay on the mask branches 1.71: the weight-decay
# runs below raise the exposure within the budget instead of lengthening the run.
set -euo pipefail
OUT=${1:-runs/mask_ablation}
COMMON=(--epochs 1 --warmup-iters 50 --eval-interval 143 --no-test --progress log --log-interval 50)
run() {  # NAME FLAGS...
  local name=$1; shift
  if [ ! -f "$OUT/$name/results.json" ]; then
    resattn train "${COMMON[@]}" --output "$OUT/$name" --resume auto "$@"
  fi
  if [ ! -f "$OUT/$name/mask_health_val.json" ]; then
    resattn analyze masks --checkpoint "$OUT/$name/best.pt" --split val --output "$OUT/$name/mask_health_val.png"
  fi
}
# the decisive runs first: does strong decay flatten the masks, does sparing the mask branches prevent it, and does
# sparing only the heads that close them?
run wd2e-2 --weight-decay 2e-2
run wd2e-2_maskwd0 --weight-decay 2e-2 --mask-weight-decay 0
run wd2e-2_headwd0 --weight-decay 2e-2 --mask-head-weight-decay 0
run base
run wd5e-3 --weight-decay 5e-3
run lr0.4 --lr 0.4
run ls0.1 --label-smoothing 0.1
run paper_b64 --batch-size 64 --weight-decay 1e-4 --warmup-iters 100
