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
