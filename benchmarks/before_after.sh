#!/usr/bin/env bash
# `resattn benchmark` of two commits, the same command for each, one after the other on the same machine: the modes
# users run (fp32 eager, bf16 autocast, compile_frozen + bf16 for inference; fp32 and bf16 for training). Each
# run's ratios are against references timed in the same process (ResNet-50, preact_resnet164_cifar), so the two
# commits are compared ratio to ratio; absolute times are context only.
#
#   ./benchmarks/before_after.sh BEFORE AFTER [OUT [BENCHMARK ARGS...]]   # e.g. 599bdb0^ 599bdb0
#
# OUT defaults to docs/benchmarks/before_after; BENCHMARK ARGS, when given, replace the default modes below (e.g.
# `--sections inference --modes fp32 --repeats 10` to look at one mode).
#
# Each commit is checked out in a temporary worktree and imported from there (PYTHONPATH), so the working tree is
# not touched. Writes OUT/<label>.md (printed table) and OUT/<label>.json (every number), label = the short hash.
set -euo pipefail
if (( $# < 2 )); then echo "usage: $0 BEFORE AFTER [OUT [BENCHMARK ARGS...]]" >&2; exit 2; fi
BEFORE=$1 AFTER=$2 OUT=${3:-docs/benchmarks/before_after}
shift $(( $# < 3 ? $# : 3 ))
ARGS=(--sections inference training --modes fp32 bf16 frozen_bf16 --repeats 15 --warmup 3
      --train-model attention92_cifar --train-batch 64)
(( $# )) && ARGS=("$@")
mkdir -p "$OUT"
for rev in "$BEFORE" "$AFTER"; do
  label=$(git rev-parse --short "$rev")
  tree=$(mktemp -d)
  git worktree add --detach --quiet "$tree" "$rev"
  {
    echo "commit $label ($rev), $(date -u +%FT%TZ), load: $(cat /proc/loadavg)"
    echo "resattn benchmark ${ARGS[*]}"
    PYTHONPATH="$tree/src" python -m resattn benchmark "${ARGS[@]}" --json "$OUT/$label.json"
  } 2>&1 | tee "$OUT/$label.md"
  git worktree remove --force "$tree"
done
