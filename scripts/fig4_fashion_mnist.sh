#!/usr/bin/env bash
# Paper Fig. 4 on Fashion-MNIST: train Attention-164 with attention residual learning (ARL) and with naive
# attention learning (NAL), and the pre-activation ResNet-164 baseline, on the same short budget; then measure the
# relative mean absolute response of each stage's output on 1000 test images, and the mask health of the two
# attention nets on the same images. Results: docs/attention_maps.md.
set -euo pipefail
# SEED=1 OUT=runs/fig4_seed1 ./scripts/fig4_fashion_mnist.sh repeats it with another seed (initialisation, order,
# augmentation and validation split).
ITERS=${ITERS:-300}
SEED=${SEED:-0}
OUT=${OUT:-runs/fig4}
common=(--dataset fashion_mnist --seed "$SEED" --iters "$ITERS" --batch-size 128 --lr 0.1 --warmup-iters 50
        --sched cosine --eval-interval "$ITERS" --progress log --log-interval 100 --resume auto)
resattn train --model attention164_cifar "${common[@]}" --output "$OUT/arl"
resattn train --model attention164_cifar --naive-attention "${common[@]}" --output "$OUT/nal"
resattn train --model preact_resnet164_cifar "${common[@]}" --output "$OUT/resnet164"
resattn analyze response --checkpoint "$OUT/arl/best.pt" "$OUT/nal/best.pt" "$OUT/resnet164/best.pt" \
  --labels "Attention-164 ARL" "Attention-164 NAL" "ResNet-164" --dataset fashion_mnist --split test \
  --num-images 1000 --output "$OUT/fig4.png"
for net in arl nal; do
  resattn analyze masks --checkpoint "$OUT/$net/best.pt" --dataset fashion_mnist --split test --num-images 1000 \
    --output "$OUT/mask_health_$net.png" | tee "$OUT/mask_health_$net.txt"
done
