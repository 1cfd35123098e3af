"""Released weights: pretrained tags that load offline from safetensors files shipped inside the package.

    timm.create_model("attention56_cifar.fmnist", pretrained=True)   # or resattn.create_model(...)

Each entry says how the weights were made and what they measured; ``annotate`` copies that into the model's
``pretrained_cfg`` (``dataset``, ``class_names``, ``test_top1``, ...), where ``resattn validate --pretrained`` and
``resattn predict --pretrained`` read it. ``test_top1`` / ``test_top5`` are what
``resattn validate --model TAG --pretrained --dataset fashion_mnist --split test`` prints on the CPU (fp32); the
tests re-measure them. ``mask_health`` is what ``resattn analyze masks`` measures on the same split: the median
spatial contrast of M per stage (flat below 0.01) and the top-1 lost when every mask loses its spatial structure or
is replaced by 0.5.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"

RELEASED: dict[str, dict[str, Any]] = {
    "attention56_cifar.fmnist": dict(
        file="attention56_cifar_fmnist.safetensors",
        dataset="fashion_mnist",
        # The dataset's labels 0..9 and its normalisation, as the weights were trained with them; plain data here,
        # so that the models do not depend on the data package (tests check them against resattn.data).
        class_names=["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                     "Ankle boot"],
        input_size=(1, 28, 28),
        mean=(0.2860,),
        std=(0.3530,),
        recipe="configs/fashion_mnist_release.yaml with --val-split 0 --mask-weight-decay 5e-4 "
               "--mask-head-weight-decay 0 (docs/reproduction.md#released-weights)",
        test_top1=95.23,  # resattn validate ... --split test, CPU fp32, 2026-12-07
        test_top5=99.97,
        # resattn analyze masks --model attention56_cifar.fmnist --pretrained --dataset fashion_mnist --split test
        # (10,000 images, CPU fp32, 2026-12-07;
        # record docs/runs/release_fmnist_headwd0_full_check/mask_health_test.json)
        mask_health=dict(
            contrast_per_stage=dict(stage1=0.1798, stage2=0.1635, stage3=0.1076),
            flat_stages=[],
            top1_drop_spatial_mean_all=1.28,
            top1_drop_constant_all=85.23,
        ),
        description="Attention-56 (CIFAR layout) trained on Fashion-MNIST's 60,000 training images, final weights of "
                    "a fixed 80-epoch schedule; soft masks alive in every stage.",
    ),
}


def pretrained_cfgs(base_cfg) -> dict[str, dict[str, Any]]:
    """timm default-cfg entries of every release, built on ``base_cfg(**overrides)`` of its architecture family."""
    cfgs = {}
    for name, rel in RELEASED.items():
        cfgs[name] = base_cfg(
            file=str(WEIGHTS_DIR / rel["file"]), num_classes=len(rel["class_names"]), input_size=rel["input_size"],
            mean=rel["mean"], std=rel["std"], label_names=tuple(rel["class_names"]), description=rel["description"],
        )
    return cfgs


def annotate(model) -> None:
    """Add a release's metadata (dataset, class names, measured accuracy, recipe) to ``model.pretrained_cfg``."""
    cfg = getattr(model, "pretrained_cfg", None)
    if not cfg:
        return
    name = f"{cfg.get('architecture')}.{cfg.get('tag')}"
    if name in RELEASED:
        rel = RELEASED[name]
        cfg.update(dataset=rel["dataset"], class_names=list(rel["class_names"]), test_top1=rel["test_top1"],
                   test_top5=rel["test_top5"], recipe=rel["recipe"], mask_health=rel["mask_health"])


def warn_if_masks_flat(model) -> None:
    """A ``UserWarning`` when the loaded release's soft masks are flat (read from the ``mask_health`` that
    :func:`annotate` put in ``pretrained_cfg``): a user who loads weights to see where an attention network looks
    must be told when its masks no longer say."""
    cfg = getattr(model, "pretrained_cfg", None) or {}
    health = cfg.get("mask_health") or {}
    if health.get("flat_stages"):
        warnings.warn(f"{cfg['architecture']}.{cfg['tag']}: the soft masks of these weights are flat in "
                      f"{', '.join(health['flat_stages'])} (their spatial structure is worth "
                      f"{health['top1_drop_spatial_mean_all']:.2f} test points): they re-weight channels but no "
                      f"longer say where to look; docs/attention_maps.md#mask-health", UserWarning, stacklevel=5)
