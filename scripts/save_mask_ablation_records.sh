#!/usr/bin/env bash
# Copy the small records of scripts/mask_ablation.sh's runs (no checkpoints) into docs/runs/mask_ablation.
set -euo pipefail
SRC=${1:-runs/mask_ablation}
DST=${2:-docs/runs/mask_ablation}
for run in "$SRC"/*/; do
  name=$(basename "$run")
  mkdir -p "$DST/$name"
  for f in config.yaml summary.csv results.json mask_health_val.json mask_health_val.png curves.png; do
    if [ -f "$run/$f" ]; then cp "$run/$f" "$DST/$name/"; fi
  done
done
