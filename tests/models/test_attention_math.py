"""Paper Eq. 1-6 on the Attention Module and the mask activations."""

import pytest
import torch

import resattn
from resattn.layers import AttentionModule, MaskActivation, PreActBottleneck


def _module(**kwargs):
    return AttentionModule(PreActBottleneck, 64, num_pools=2, **kwargs).eval()


@pytest.mark.parametrize("attention_residual", [True, False])
def test_zero_mask(monkeypatch, attention_residual):
    """Eq. 3 with M = 0 gives the trunk output T; Eq. 1 (naive) gives 0 instead."""
    module = _module(attention_residual=attention_residual)
    x = torch.randn(2, 64, 16, 16)
    monkeypatch.setattr(module.mask, "forward", lambda x, ref: torch.zeros_like(ref))
    with torch.no_grad():
        out = module(x)
        trunk = module.trunk(module.pre(x))
        expected = module.post(trunk) if attention_residual else module.post(torch.zeros_like(trunk))
    torch.testing.assert_close(out, expected)
    if not attention_residual:
        assert not torch.allclose(out, module.post(trunk))


def test_fusion_equations():
    trunk, mask = torch.randn(2, 8, 5, 5), torch.rand(2, 8, 5, 5)
    torch.testing.assert_close(_module().fuse(trunk, mask), (1 + mask) * trunk)  # Eq. 3
    torch.testing.assert_close(_module(attention_residual=False).fuse(trunk, mask), mask * trunk)  # Eq. 1


def _recorded_masks(model, x):
    masks = []
    hooks = [m.register_forward_hook(lambda m, i, o: masks.append(o)) for m in model.modules()
             if isinstance(m, MaskActivation)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return masks


def test_mixed_mask_in_open_unit_interval():
    # Train mode (batch statistics keep the logits O(1) at init) and float64: in float32 a sigmoid of a logit
    # above ~17 rounds to exactly 1.0, which is not what Eq. 4 says.
    model = resattn.create_model("attention56_cifar").double().train()
    masks = _recorded_masks(model, torch.randn(2, 3, 32, 32, dtype=torch.float64))
    assert len(masks) == 3
    for m in masks:
        assert (m > 0).all() and (m < 1).all()


def test_channel_mask_unit_l2_norm_per_position():
    model = resattn.create_model("attention56_cifar", mask_act="channel").eval()
    for m in _recorded_masks(model, torch.randn(2, 3, 32, 32)):
        torch.testing.assert_close(m.norm(dim=1), torch.ones(m.shape[0], *m.shape[2:]))


def test_spatial_mask_follows_eq6():
    x = torch.randn(3, 6, 7, 9) * 3 + 1
    act = MaskActivation("spatial")
    mean = x.mean(dim=(2, 3), keepdim=True)
    std = x.std(dim=(2, 3), keepdim=True, unbiased=False)
    torch.testing.assert_close(act(x), torch.sigmoid((x - mean) / std), rtol=1e-4, atol=1e-5)


def test_mixed_and_channel_follow_eq4_eq5():
    x = torch.randn(2, 5, 3, 3)
    torch.testing.assert_close(MaskActivation("mixed")(x), 1 / (1 + torch.exp(-x)))
    torch.testing.assert_close(MaskActivation("channel")(x), x / x.norm(dim=1, keepdim=True))


def test_naive_differs_from_residual_with_same_weights():
    arl = resattn.create_model("attention56_cifar").eval()
    nal = resattn.create_model("attention56_cifar", attention_residual=False).eval()
    nal.load_state_dict(arl.state_dict())  # ablations share keys: the same checkpoint loads into either
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(arl(x), nal(x))


def test_local_conv_mask_has_no_resampling_and_similar_macs():
    from resattn.utils.complexity import count_macs

    ed = resattn.create_model("attention56_cifar")
    local = resattn.create_model("attention56_cifar", mask_type="local_conv")
    assert "mask.down" not in str([n for n, _ in local.named_modules()])
    ed_macs, local_macs = count_macs(ed, (3, 32, 32)), count_macs(local, (3, 32, 32))
    assert local_macs == pytest.approx(ed_macs, rel=0.05)
    # three local-convolution units in Attention-56 (paper section 4.1): one per module
    units = [n for n, _ in local.named_modules() if n.endswith("mask.units.0")]
    assert len(units) == 3 and not any(n.endswith("mask.units.1") for n, _ in local.named_modules())


def test_fused_attention_residual_gradients_match_autograd():
    """The hand-written backward of Eq. 3 (layers/fusion.py) gives autograd's gradients of (1 + M) * T."""
    from resattn.layers.fusion import _AttentionResidual, attention_residual

    trunk = torch.randn(2, 4, 5, 5, dtype=torch.float64, requires_grad=True)
    mask = torch.rand(2, 4, 5, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(_AttentionResidual.apply, (trunk, mask))
    assert torch.autograd.gradgradcheck(_AttentionResidual.apply, (trunk, mask))
    grad = torch.randn(2, 4, 5, 5, dtype=torch.float64)
    fused = torch.autograd.grad(attention_residual(trunk, mask), (trunk, mask), grad)
    reference = torch.autograd.grad((1 + mask) * trunk, (trunk, mask), grad)
    for got, want in zip(fused, reference):
        torch.testing.assert_close(got, want)
    assert attention_residual(trunk, mask).grad_fn.name().endswith("_AttentionResidualBackward")
    with torch.no_grad():  # inference takes the plain kernel, no autograd node
        torch.testing.assert_close(attention_residual(trunk, mask), (1 + mask) * trunk)


def test_fused_attention_residual_in_a_training_step():
    """A whole module's parameter gradients are the same with the fused and the plain addcmul path."""
    torch.manual_seed(0)
    module = _module().train().double()
    x = torch.randn(2, 64, 16, 16, dtype=torch.float64)

    def grads(fuse):
        module.zero_grad()
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(module, "fuse", fuse)
            module(x).square().sum().backward()
        return [p.grad.clone() for p in module.parameters()]

    fused = grads(module.fuse)
    plain = grads(lambda t, m: torch.addcmul(t, m, t))
    for got, want in zip(fused, plain):
        torch.testing.assert_close(got, want)


def test_fused_attention_residual_mixed_dtypes():
    """A bf16 trunk with an fp32 mask (autocast keeps some mask activations in fp32) gets gradients in its own dtype."""
    from resattn.layers.fusion import attention_residual

    trunk = torch.randn(2, 3, 4, 4).bfloat16().requires_grad_()
    mask = torch.rand(2, 3, 4, 4, requires_grad=True)
    attention_residual(trunk, mask).sum().backward()
    assert trunk.grad.dtype == torch.bfloat16 and mask.grad.dtype == torch.float32
    torch.testing.assert_close(trunk.grad, (1 + mask.detach()).bfloat16(), rtol=1e-2, atol=1e-2)
    torch.testing.assert_close(mask.grad, trunk.detach().float())
