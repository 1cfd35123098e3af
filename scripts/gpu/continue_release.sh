#!/usr/bin/env bash
# Continue the Fashion-MNIST release run on a machine with a GPU, within a time limit, and hand it back.
#
#   mkdir -p .fmnist && cp /usr/share/datasets/fashion-mnist/*.gz .fmnist/   # first, where the data is installed
#   OUT=/tmp/out LIMIT=480 ./scripts/gpu/continue_release.sh runs/release_fmnist   # then, on the GPU machine
#
# Copies RUN into $OUT and continues it there with ./scripts/train_release.sh (--resume auto); at LIMIT seconds
# SIGTERM makes the trainer finish its step, write last.pt and stop, so $OUT/<run name> always holds a checkpoint to
# continue from, anywhere: copy it back over RUN. With best.pt and results.json in it, the run has finished.
# Fashion-MNIST is read from $RESATTN_DATA (default .fmnist/ in the repository). Both .fmnist/ and RUN are ignored
# by git: a tool that copies the working tree to the GPU machine must be told to carry them. DEVICE=cpu: a dry run.
set -uo pipefail
RUN=${1:?usage: OUT=DIR LIMIT=SECONDS $0 RUN_FOLDER}
OUT=${OUT:?set OUT to the folder to write to}
LIMIT=${LIMIT:-480}
export PYTHONUNBUFFERED=1 RESATTN_DATA=${RESATTN_DATA:-$PWD/.fmnist} PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
name=$(basename "$RUN")
cp -r "$RUN" "$OUT/$name"
nvidia-smi -L 2>&1 | head -2
timeout --signal=TERM --kill-after=60 "$LIMIT" ./scripts/train_release.sh "$OUT/$name" --device "${DEVICE:-cuda}" --workers 8 \
  --progress log > "$OUT/$name.log" 2>&1
echo "exit $?"
tail -5 "$OUT/$name.log"
rm -f "$OUT/$name/last.prev.pt"  # the previous checkpoint stays here; one to continue from is enough to carry back
