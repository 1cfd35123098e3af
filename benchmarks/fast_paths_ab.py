"""A/B of CPU speed paths against the plain network, each pair timed in turn in one process.

    python benchmarks/fast_paths_ab.py [--repeats 12] [--threads N]
        [--sections entry fused in_place eager_inference compiled]

A path is kept only where it gains at least 5% on the mode it serves; the kept one is timed as the network against
a copy without it, the removed ones as experiments applied here to a copy of the plain network:

* ``entry`` (kept, ``models/entry.py``): the input converted to channels_last in eager CPU mode, against none;
  attention56 fp32 eager inference, batch 8 at 224x224, NCHW weights and input (what ``model(x)`` does by default).
* ``fused``: a hand-written backward of (1 + M) * T (two kernels instead of autograd's) against the plain
  ``trunk + mask * trunk``; attention92_cifar training steps, batch 64 at 32x32, channels_last, fp32 and bf16.
* ``in_place``: residual additions written into the convolution output (``out.add_(shortcut)``) against
  ``out + shortcut``; attention56 fp32 eager inference, batch 8 at 224x224.
* ``eager_inference``: everything the plain forward removed from eager inference, apart and together: the in-place
  additions above and ``(1 + M) * T`` as one ``torch.addcmul`` instead of ``T + M * T``; attention56 fp32 eager
  inference, batch 8 at 224x224, the four variants timed in turn.
* ``compiled``: the mask's bilinear upsampling as one opaque custom operator with its own backward operator,
  against ``F.interpolate``, in a ``torch.compile`` CPU training step (inductor otherwise turns the upsampling's
  backward into scatter-add kernels); attention92_cifar, batch 64 at 32x32, channels_last, bf16. Compiles twice:
  minutes on 2 cores.

Both sides of a pair share the weights and inputs. The ratio is path / plain: below 1, the path is faster.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import types
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

import resattn
from resattn.benchmark import interleaved_inference, interleaved_training
from resattn.layers import AttentionModule, EncoderDecoderMask, PreActBottleneck
from resattn.models import residual_attention

SECTIONS = ("entry", "fused", "in_place", "eager_inference", "compiled")


class _Patched(nn.Module):
    """Runs ``model`` with ``patch()`` (a context manager) open during each call."""

    def __init__(self, model: nn.Module, patch: Any) -> None:
        super().__init__()
        self.model, self.patch = model, patch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with self.patch():
            return self.model(x)


@contextlib.contextmanager
def _attr(owner: Any, name: str, value: Any):
    saved = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, saved)


# ------------------------------------------------------------------------------------------- fused backward
class _FusedResidual(torch.autograd.Function):
    """(1 + M) * T as one addcmul; backward dT = grad + grad * M (one addcmul), dM = grad * T (one mul)."""

    @staticmethod
    def forward(ctx: Any, trunk: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(trunk, mask)
        return torch.addcmul(trunk, mask, trunk)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        trunk, mask = ctx.saved_tensors
        return torch.addcmul(grad, grad, mask), grad * trunk


def _with_fused_residual(model: nn.Module) -> nn.Module:
    model = copy.deepcopy(model)
    for module in model.modules():
        if isinstance(module, AttentionModule) and module.attention_residual:
            module.fuse = _FusedResidual.apply
    return model


# -------------------------------------------------------------------------------------- in-place additions
def _preact_forward_in_place(self: PreActBottleneck, x: torch.Tensor) -> torch.Tensor:
    a = F.relu(self.bn1(x), inplace=True)
    out = self.conv1(a)
    out = self.conv2(F.relu(self.bn2(out), inplace=True))
    out = self.conv3(F.relu(self.bn3(out), inplace=True))
    return out.add_(x if self.shortcut is None else self.shortcut(a))


def _merge_in_place(self: EncoderDecoderMask, level: int, h: torch.Tensor, feat: torch.Tensor) -> torch.Tensor:
    return self.up[level](self._upsample(h, feat).add_(self.skips[level](feat)))


@contextlib.contextmanager
def _in_place_additions():
    with _attr(PreActBottleneck, "forward", _preact_forward_in_place), \
            _attr(EncoderDecoderMask, "_merge", _merge_in_place):
        yield


def _with_addcmul_residual(model: nn.Module) -> nn.Module:
    model = copy.deepcopy(model)
    for module in model.modules():
        if isinstance(module, AttentionModule) and module.attention_residual:
            module.fuse = lambda trunk, mask: torch.addcmul(trunk, mask, trunk)
    return model


# ------------------------------------------------------------------------------------- opaque upsampling op
@torch.library.custom_op("resattn_ab::upsample_bilinear", mutates_args=())
def _upsample(x: torch.Tensor, height: int, width: int, align_corners: bool) -> torch.Tensor:
    return torch.ops.aten.upsample_bilinear2d.default(x, [height, width], align_corners)


@_upsample.register_fake
def _(x: torch.Tensor, height: int, width: int, align_corners: bool) -> torch.Tensor:
    from torch._prims_common import suggest_memory_format

    return torch.empty((x.shape[0], x.shape[1], height, width), dtype=x.dtype, device=x.device,
                       memory_format=suggest_memory_format(x))


@torch.library.custom_op("resattn_ab::upsample_bilinear_backward", mutates_args=())
def _upsample_backward(grad: torch.Tensor, input_size: list[int], align_corners: bool) -> torch.Tensor:
    return torch.ops.aten.upsample_bilinear2d_backward.default(grad, list(grad.shape[-2:]), input_size, align_corners)


@_upsample_backward.register_fake
def _(grad: torch.Tensor, input_size: list[int], align_corners: bool) -> torch.Tensor:
    from torch._prims_common import suggest_memory_format

    return torch.empty(input_size, dtype=grad.dtype, device=grad.device, memory_format=suggest_memory_format(grad))


def _setup_context(ctx: Any, inputs: tuple, output: torch.Tensor) -> None:
    ctx.input_size, ctx.align_corners = list(inputs[0].shape), inputs[3]


def _backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None, None]:
    return _upsample_backward(grad, ctx.input_size, ctx.align_corners), None, None, None


_upsample.register_autograd(_backward, setup_context=_setup_context)


def _opaque_upsample(self: EncoderDecoderMask, x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    return _upsample(x, int(ref.shape[-2]), int(ref.shape[-1]), self.align_corners)


def _with_opaque_upsampling(model: nn.Module) -> nn.Module:
    model = copy.deepcopy(model)
    for module in model.modules():
        if isinstance(module, EncoderDecoderMask):
            module._upsample = types.MethodType(_opaque_upsample, module)
    return model


# ------------------------------------------------------------------------------------------------ sections
def _entry(args: argparse.Namespace) -> None:
    print("Channels_last at the entry: attention56 fp32 eager inference, batch 8 at 224x224, NCHW weights and input")
    net = resattn.create_model("attention56")
    x = torch.randn(8, 3, 224, 224)
    plain = _Patched(net, lambda: _attr(residual_attention, "cpu_channels_last", lambda t: t))
    secs = interleaved_inference({"entry": (net, x, None), "plain": (plain, x, None)}, args.warmup, args.repeats)
    print(f"  with {secs['entry'] * 1e3:.1f} ms, without {secs['plain'] * 1e3:.1f} ms, "
          f"ratio {secs['entry'] / secs['plain']:.3f}")


def _cifar_training_pair() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    net = resattn.create_model("attention92_cifar", num_classes=10).to(memory_format=torch.channels_last)
    x = torch.randn(64, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    return net, x, torch.randint(0, 10, (64,))


def _fused(args: argparse.Namespace) -> None:
    print("Hand-written backward of (1 + M) * T: attention92_cifar training step, batch 64 at 32x32")
    net, x, y = _cifar_training_pair()
    fused = _with_fused_residual(net)
    for label, amp in (("fp32", None), ("bf16", torch.bfloat16)):
        secs = interleaved_training({"fused": (fused, x, y, amp), "plain": (net, x, y, amp)}, args.warmup,
                                    args.repeats)
        print(f"  {label}: fused {secs['fused'] * 1e3:.1f} ms, plain {secs['plain'] * 1e3:.1f} ms, "
              f"ratio {secs['fused'] / secs['plain']:.3f}")


def _in_place(args: argparse.Namespace) -> None:
    print("In-place residual additions: attention56 fp32 eager inference, batch 8 at 224x224")
    net = resattn.create_model("attention56")
    x = torch.randn(8, 3, 224, 224)
    secs = interleaved_inference({"in_place": (_Patched(net, _in_place_additions), x, None),
                                  "plain": (net, x, None)}, args.warmup, args.repeats)
    print(f"  in place {secs['in_place'] * 1e3:.1f} ms, plain {secs['plain'] * 1e3:.1f} ms, "
          f"ratio {secs['in_place'] / secs['plain']:.3f}")


def _eager_inference(args: argparse.Namespace) -> None:
    print("Removed eager inference paths: attention56 fp32 eager inference, batch 8 at 224x224")
    net = resattn.create_model("attention56")
    addcmul = _with_addcmul_residual(net)
    x = torch.randn(8, 3, 224, 224)
    cases = {"plain": (net.eval(), x, None), "in_place": (_Patched(net, _in_place_additions), x, None),
             "addcmul": (addcmul.eval(), x, None), "both": (_Patched(addcmul, _in_place_additions), x, None)}
    with torch.inference_mode():
        reference = net(x)
        for key, (model, _, _) in cases.items():  # the same function, only its kernels differ
            torch.testing.assert_close(model(x), reference, rtol=1e-4, atol=1e-4, msg=key)
    secs = interleaved_inference(cases, args.warmup, args.repeats)
    print(f"  plain {secs['plain'] * 1e3:.1f} ms; ratio to plain: " + ", ".join(
        f"{key} {secs[key] / secs['plain']:.3f}" for key in ("in_place", "addcmul", "both")))


def _compiled(args: argparse.Namespace) -> None:
    print("Opaque upsampling operator: compiled attention92_cifar bf16 training step, batch 64 at 32x32")
    net, x, y = _cifar_training_pair()
    opaque, plain = torch.compile(_with_opaque_upsampling(net)), torch.compile(net)
    secs = interleaved_training({"opaque": (opaque, x, y, torch.bfloat16), "plain": (plain, x, y, torch.bfloat16)},
                                args.warmup, args.repeats)
    print(f"  opaque {secs['opaque'] * 1e3:.1f} ms, F.interpolate {secs['plain'] * 1e3:.1f} ms, "
          f"ratio {secs['opaque'] / secs['plain']:.3f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=12)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--sections", nargs="+", default=list(SECTIONS[:4]), choices=SECTIONS)
    p.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; repeats {args.repeats}, warmup {args.warmup}")
    for section in args.sections:
        globals()[f"_{section}"](args)


if __name__ == "__main__":
    main()
