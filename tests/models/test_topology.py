"""The official mask topology, counted operator by operator against the prototxt (docs/architecture.md, "The soft
mask branch").

A public port that adds the trunk output and the pre-pool tensor into the mask branch has more tensor additions
than the prototxt's Eltwise layers and fails ``test_attention56_operator_counts``; ``test_counter_catches_ports``
shows that it does.
"""

from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

import resattn
from resattn.layers import EncoderDecoderMask
from resattn.layers.soft_mask import _max_pool

aten = torch.ops.aten


class OpCounter(TorchDispatchMode):
    """Counts the ATen operators that correspond to prototxt layer types."""

    def __init__(self):
        super().__init__()
        self.counts = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        packet = func.overloadpacket
        if packet is aten.convolution:
            self.counts["Convolution"] += 1
        elif packet is aten.upsample_bilinear2d:
            self.counts["Interp"] += 1
        elif packet is aten.sigmoid:
            self.counts["Sigmoid"] += 1
        elif packet in (aten.max_pool2d_with_indices, aten.max_pool2d):
            self.counts["MaxPool"] += 1
        elif packet in (aten.mean, aten.adaptive_avg_pool2d, aten._adaptive_avg_pool2d, aten.avg_pool2d):
            self.counts["AvePool"] += 1
        elif packet is aten.addcmul:  # T + M * T: one PROD and one SUM of the prototxt
            self.counts["PROD"] += 1
            self.counts["SUM"] += 1
        elif packet in (aten.add, aten.add_) and all(isinstance(a, torch.Tensor) for a in args[:2]):
            self.counts["SUM"] += 1
        elif packet in (aten.mul, aten.mul_) and all(isinstance(a, torch.Tensor) for a in args[:2]):
            self.counts["PROD"] += 1
        elif packet in (aten.native_batch_norm, aten._native_batch_norm_legit_no_training, aten.batch_norm):
            self.counts["BN"] += 1
        elif packet in (aten.relu, aten.relu_):
            self.counts["ReLU"] += 1
        return func(*args, **(kwargs or {}))


def count_ops(model, size=224):
    model.eval()
    with torch.no_grad(), OpCounter() as counter:
        model(torch.zeros(1, 3, size, size))
    return counter.counts


# Layer counts of Attention-56-deploy.prototxt / Attention-92-deploy.prototxt (official release, commit bc207a8):
# Pooling = stem max-pool + mask max-pools (3 + 2 + 1 per module) + the final average pool; Eltwise = SUM + PROD.
PROTOTXT = {
    "attention56": dict(Convolution=110, BN=107, ReLU=107, Eltwise=42, Pooling=8, Interp=6, Sigmoid=3),
    "attention92": dict(Convolution=179, BN=176, ReLU=176, Eltwise=70, Pooling=12, Interp=10, Sigmoid=6),
}


def as_prototxt_counts(ops):
    return dict(
        Convolution=ops["Convolution"], BN=ops["BN"], ReLU=ops["ReLU"], Eltwise=ops["SUM"] + ops["PROD"],
        Pooling=ops["MaxPool"] + ops["AvePool"], Interp=ops["Interp"], Sigmoid=ops["Sigmoid"],
    )


@pytest.mark.parametrize("name", ["attention56", "attention92"])
def test_operator_counts_match_prototxt(name):
    ops = count_ops(resattn.create_model(name, num_classes=10), size=64)  # counts do not depend on the size
    assert as_prototxt_counts(ops) == PROTOTXT[name]
    modules = PROTOTXT[name]["Sigmoid"]
    assert ops["PROD"] == modules  # one M * T per module, everything else is a SUM


def test_attention56_operator_counts_at_224_and_module_counts():
    model = resattn.create_model("attention56")
    assert as_prototxt_counts(count_ops(model, 224)) == PROTOTXT["attention56"]
    assert sum(isinstance(m, torch.nn.Conv2d) for m in model.modules()) == 110
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()) == 107


class PortLikeMask(EncoderDecoderMask):
    """The public ports' reading: extra ``+ pre-pool feature`` at each merge and ``+ trunk`` before the head."""

    def forward(self, x, ref):
        feats, pre_pool, h = [], [], x
        for down in self.down:
            pre_pool.append(h)
            h = down(_max_pool(h))
            feats.append(h)
        h = self.bottom(_max_pool(h))
        for level in reversed(range(self.num_pools - 1)):
            h = self.up[level](self._upsample(h, feats[level]) + self.skips[level](feats[level]) + feats[level])
        h = F.interpolate(h, size=ref.shape[-2:], mode="bilinear", align_corners=True) + ref
        return self.head(h)


def test_counter_catches_ports(monkeypatch):
    model = resattn.create_model("attention56", num_classes=10)
    for module in model.modules():
        if type(module) is EncoderDecoderMask:
            module.__class__ = PortLikeMask
    counts = as_prototxt_counts(count_ops(model, size=64))
    assert counts["Eltwise"] == PROTOTXT["attention56"]["Eltwise"] + 3 + 3  # 3 extra merges + 3 "+ trunk"
    assert counts != PROTOTXT["attention56"]


def test_mask_pooling_is_caffe_ceil_mode():
    """3x3/2 pad 0 ceil: 56 -> 28 -> 14 -> 7 and 40 -> 20 -> 10 (Attention-92 at 320), never padding=1 windows."""
    x = torch.arange(56 * 56, dtype=torch.float32).reshape(1, 1, 56, 56)
    y = _max_pool(x)
    assert y.shape[-1] == 28
    assert y[0, 0, 0, 0] == x[0, 0, 2, 2]  # window rows/cols 0..2, not -1..1
    assert _max_pool(torch.zeros(1, 1, 40, 40)).shape[-1] == 20
