"""What the paper (arXiv v1) says about each network's size, for ``resattn info`` and the zoo docs.

``gmacs`` are the paper's "FLOPs", which are multiply-adds. Counts derived from the official prototxts (31.81 M /
6.27 G for Attention-56, 52.47 M / 10.53 G for Attention-92) are what this package matches; the paper's 51.3 M for
Attention-92 disagrees with its own prototxt (docs/architecture.md, "The ImageNet networks").
"""

from __future__ import annotations

PAPER_NUMBERS: dict[str, dict] = {
    "attention56": dict(params_m=31.9, gmacs=6.3, img_size=224, source="Table 2 (6.2 G) / Table 7 (6.3 G)"),
    "attention92": dict(params_m=51.3, gmacs=10.4, img_size=224, source="Table 2 / 7 (prototxt: 52.47 M, 10.53 G)"),
    "attentionnext56": dict(params_m=31.9, gmacs=6.3, img_size=224, source="Table 7 (prototxt: 31.32 M, 6.42 G)"),
    "attention92_cifar": dict(params_m=1.9, img_size=32, source="Table 6"),
    "attention236_cifar": dict(params_m=5.1, img_size=32, source="Table 6"),
    "attention452_cifar": dict(params_m=8.6, img_size=32, source="Table 6"),
    "preact_resnet164_cifar": dict(params_m=1.7, img_size=32, source="Table 6"),
}
