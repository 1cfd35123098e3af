"""A/B of two eager fast paths against the plain PyTorch they replace, timed in turn in one process.

    python benchmarks/fast_paths_ab.py [--repeats 12]

* the hand-written backward of (1 + M) * T (``layers/fusion.py``) against autograd's own backward of ``addcmul``:
  attention92_cifar training steps, batch 64 at 32x32, channels_last, fp32 and bf16 autocast;
* in-place residual additions (``layers/units.py: residual_add``) against out-of-place ``out + shortcut``:
  attention56 fp32 eager inference, batch 8 at 224x224.

Both variants share the weights and inputs; the ratio is fast path / plain (below 1: the fast path is faster).
"""

from __future__ import annotations

import argparse
import contextlib
import copy

import torch
from torch import nn

import resattn
from resattn.benchmark import interleaved_inference, interleaved_training
from resattn.layers import AttentionModule, soft_mask, units


def _plain_fusion(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose Attention Modules fuse with ``torch.addcmul`` and autograd's backward."""
    model = copy.deepcopy(model)
    for module in model.modules():
        if isinstance(module, AttentionModule) and module.attention_residual:
            module.fuse = lambda trunk, mask: torch.addcmul(trunk, mask, trunk)
    return model


@contextlib.contextmanager
def _out_of_place_additions():
    def add(out: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
        return out + shortcut

    saved = units.residual_add, soft_mask.residual_add
    units.residual_add = soft_mask.residual_add = add
    try:
        yield
    finally:
        units.residual_add, soft_mask.residual_add = saved


class _OutOfPlace(nn.Module):
    """Runs ``model`` with out-of-place residual additions (module-level switch, restored after each call)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with _out_of_place_additions():
            return self.model(x)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=12)
    p.add_argument("--warmup", type=int, default=2)
    args = p.parse_args()
    torch.manual_seed(0)

    print("Fused backward of (1 + M) * T: attention92_cifar training step, batch 64 at 32x32 (ms)")
    net = resattn.create_model("attention92_cifar", num_classes=10).to(memory_format=torch.channels_last)
    plain = _plain_fusion(net)
    x = torch.randn(64, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (64,))
    for label, amp in (("fp32", None), ("bf16", torch.bfloat16)):
        secs = interleaved_training({"fused": (net, x, y, amp), "autograd": (plain, x, y, amp)}, args.warmup,
                                    args.repeats)
        print(f"  {label}: fused {secs['fused'] * 1e3:.1f}, autograd addcmul {secs['autograd'] * 1e3:.1f}, "
              f"ratio {secs['fused'] / secs['autograd']:.3f}")

    print("In-place residual additions: attention56 fp32 eager inference, batch 8 at 224x224 (ms)")
    net = resattn.create_model("attention56")
    x = torch.randn(8, 3, 224, 224)
    secs = interleaved_inference({"in_place": (net, x, None), "out_of_place": (_OutOfPlace(net), x, None)},
                                 args.warmup, args.repeats)
    print(f"  in place {secs['in_place'] * 1e3:.1f}, out of place {secs['out_of_place'] * 1e3:.1f}, "
          f"ratio {secs['in_place'] / secs['out_of_place']:.3f}")


if __name__ == "__main__":
    main()
