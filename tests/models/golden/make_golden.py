"""Golden logits: one network of each family and each ablation, fixed weights and input, float64.

    python tests/models/golden/make_golden.py      # rewrites logits.json; only for a deliberate change of the maths

``tests/models/test_golden_outputs.py`` recomputes every case with :func:`golden_logits` and compares it with the
stored numbers, so any change in what a forward pass computes (the mask branch wired to another tensor, a pooling
with other windows, interpolation to another size, Eq. 1 / 3 / 4-6 written differently) fails it, while a change of
memory layout, kernel choice or summation order does not (float64 keeps those near 1e-14).

The weights do not come from the model's initialiser: every floating-point entry of the state dict is drawn, in
state-dict order, from one seeded generator. The keys and shapes are public API (``test_state_dict_keys.py``), so
the weights stay the same when modules are built in another order. BatchNorm running statistics are then set to the
statistics of the golden input (one train-mode pass with a cumulative average), so that every activation is O(1) in
eval mode and no soft mask saturates: a saturated sigmoid would hide a miswired mask.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from torch import nn

import resattn

PATH = Path(__file__).with_name("logits.json")
SEED = 20170721  # any fixed number
NUM_CLASSES = 8
BATCH = 2  # train-mode BN (the calibration pass) needs more than one value per channel

# Sizes are odd and non-square, and large enough that no soft mask's lowest map is 1x1: the ceil-mode poolings hit
# their uneven cases and every align-corners interpolation goes to a size that is not twice its input.
IMAGENET_SIZE = (65, 71)  # stage-1 trunk 16x18, mask maps 8x9 / 4x4 / 2x2
CIFAR_SIZE = (19, 17)  # stage-1 trunk 19x17, mask maps 9x8 / 4x4 / 2x2

CASES: dict[str, dict] = {
    "attention56": dict(model="attention56", kwargs={}, size=IMAGENET_SIZE),
    "attentionnext56": dict(model="attentionnext56", kwargs={}, size=IMAGENET_SIZE),
    "attention56_cifar": dict(model="attention56_cifar", kwargs={}, size=CIFAR_SIZE),
    "preact_resnet164_cifar": dict(model="preact_resnet164_cifar", kwargs={}, size=CIFAR_SIZE),
    "naive_attention": dict(model="attention56_cifar", kwargs=dict(attention_residual=False), size=CIFAR_SIZE),
    "mask_act_spatial": dict(model="attention56_cifar", kwargs=dict(mask_act="spatial"), size=CIFAR_SIZE),
    "mask_act_channel": dict(model="attention56_cifar", kwargs=dict(mask_act="channel"), size=CIFAR_SIZE),
    "local_conv_mask": dict(model="attention56_cifar", kwargs=dict(mask_type="local_conv"), size=CIFAR_SIZE),
}


def build(case: str) -> nn.Module:
    """The case's network in float64 with the golden weights and calibrated BN statistics, in eval mode."""
    spec = CASES[case]
    model = resattn.create_model(spec["model"], num_classes=NUM_CLASSES, **spec["kwargs"]).double()
    gen = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for key, tensor in model.state_dict().items():
            if not tensor.is_floating_point() or "running_" in key:
                continue
            draw = torch.randn(tensor.shape, generator=gen, dtype=torch.float64)
            if tensor.ndim > 1:  # conv / linear weight: unit gain (fan-in scaling)
                draw /= math.sqrt(tensor[0].numel())
            elif key.endswith(".weight"):  # BN scale around 1
                draw = 1.0 + 0.2 * draw
            else:  # BN shift and classifier bias
                draw = 0.2 * draw
            tensor.copy_(draw)
        bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        for bn in bns:
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average: after one batch, the running statistics are that batch's
        model.train()(golden_input(case))
        for bn in bns:
            bn.momentum = 0.1
    return model.eval()


def golden_input(case: str) -> torch.Tensor:
    gen = torch.Generator().manual_seed(SEED + 1)
    return torch.randn(BATCH, 3, *CASES[case]["size"], generator=gen, dtype=torch.float64)


def golden_logits(case: str, model: nn.Module | None = None) -> torch.Tensor:
    """Eval-mode logits of ``build(case)`` (or of ``model``, built that way) for the case's golden input."""
    model = build(case) if model is None else model
    with torch.no_grad():
        return model(golden_input(case))


def main() -> None:
    out = {}
    for case, spec in CASES.items():
        logits = golden_logits(case)
        out[case] = dict(model=spec["model"], kwargs=spec["kwargs"], input_shape=[BATCH, 3, *spec["size"]],
                         logits=[[float(v) for v in row] for row in logits])
        print(f"{case}: max |logit| {logits.abs().max():.4f}")
    header = dict(seed=SEED, dtype="float64", torch=torch.__version__)
    lines = [f" {json.dumps(case)}: {json.dumps(entry)}" for case, entry in out.items()]  # one case per line
    PATH.write_text(f'{{"header": {json.dumps(header)}, "cases": {{\n' + ",\n".join(lines) + "\n}}\n")
    print(f"wrote {PATH}")


if __name__ == "__main__":
    main()
