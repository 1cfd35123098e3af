"""timm's model contract over the whole registry: registration, the classifier and feature methods,
forward_intermediates, features_only, gradient checkpointing, and loading through torch.hub."""

import pytest
import timm
import torch

import resattn

ALL = resattn.list_models()


def _small_input(model, batch=2):
    size = 64 if model.pretrained_cfg["input_size"][-1] >= 224 else 32  # cheap, above every minimum size
    return torch.randn(batch, model.in_chans, size, size)


def test_registered_with_timm():
    assert set(ALL) <= set(timm.list_models())
    for name in ALL:
        cfg = timm.models.get_pretrained_cfg(name).to_dict()
        for key in ("first_conv", "classifier", "input_size", "mean", "std"):
            assert key in cfg, (name, key)


@pytest.mark.parametrize("name", ALL)
def test_contract(name):
    model = timm.create_model(name, num_classes=6).eval()
    assert model.get_submodule(model.pretrained_cfg["first_conv"]).in_channels == 3
    assert model.get_submodule(model.pretrained_cfg["classifier"]) is model.get_classifier()
    x = _small_input(model)
    with torch.no_grad():
        feats = model.forward_features(x)
        assert feats.shape[:2] == (2, model.num_features)
        assert model.forward_head(feats, pre_logits=True).shape == (2, model.num_features)
        logits = model.forward_head(feats)
        assert logits.shape == (2, 6)
        torch.testing.assert_close(model(x), logits)

        final, inter = model.forward_intermediates(x)
        torch.testing.assert_close(final, feats)
        assert len(inter) == len(model.feature_info)
        for t, info in zip(inter, model.feature_info, strict=True):
            assert t.shape[1] == info["num_chs"]
            assert t.shape[-1] == -(-x.shape[-1] // info["reduction"])
        only_last = model.forward_intermediates(x, indices=1, intermediates_only=True, norm=True)
        assert len(only_last) == 1
        torch.testing.assert_close(only_last[0], feats)

        model.reset_classifier(3)
        assert model(x).shape == (2, 3)
        model.reset_classifier(0)
        assert model(x).shape == (2, model.num_features)


@pytest.mark.parametrize("name", ["attention56", "attention92_cifar", "attentionnext56", "preact_resnet164_cifar"])
def test_features_only(name):
    model = timm.create_model(name, features_only=True).eval()
    x = _small_input(model)
    with torch.no_grad():
        outs = model(x)
    assert len(outs) == len(model.feature_info.reduction())
    for out, chs, red in zip(outs, model.feature_info.channels(), model.feature_info.reduction(), strict=True):
        assert out.shape[1] == chs and out.shape[-1] == -(-x.shape[-1] // red)
    picked = timm.create_model(name, features_only=True, out_indices=(1, 2)).eval()
    with torch.no_grad():
        assert [o.shape[1] for o in picked(x)] == model.feature_info.channels()[1:3]


@pytest.mark.parametrize("name", ["attention56_cifar", "attentionnext56"])
def test_grad_checkpointing_same_output_and_grads(name):
    model = timm.create_model(name, num_classes=4).eval()  # eval: BN statistics are not updated twice
    x = _small_input(model)
    ref = model(x)
    ref.sum().backward()
    ref_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model.set_grad_checkpointing(True)
    out = model(x)
    out.sum().backward()
    torch.testing.assert_close(out, ref)
    for g, r in zip([p.grad for p in model.parameters()], ref_grads, strict=True):
        torch.testing.assert_close(g, r, rtol=1e-4, atol=1e-6)


def test_torch_hub_local():
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    model = torch.hub.load(str(repo), "attention92_cifar", source="local", num_classes=10, in_chans=1)
    assert model.num_classes == 10 and model.in_chans == 1
    baseline = torch.hub.load(str(repo), "preact_resnet164_cifar", source="local")
    assert baseline.num_features == 256
