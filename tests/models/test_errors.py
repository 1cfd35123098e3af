"""Bad input gets a clear error that names the value and what is allowed."""

import pytest
import torch

import resattn
from resattn.models.residual_attention import ResidualAttentionNet


def test_unknown_model_suggests_close_names():
    with pytest.raises(ValueError, match=r"Unknown model 'attenton92_cifar'.*'attention92_cifar'"):
        resattn.create_model("attenton92_cifar")


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(mask_act="softmax"), r"Unknown mask_act 'softmax'; allowed: mixed, channel, spatial"),
        (dict(mask_act="spacial"), r"Did you mean 'spatial'"),
        (dict(mask_type="unet"), r"Unknown mask_type 'unet'; allowed: encoder_decoder, local_conv"),
        (dict(r=0), r"r must be a positive integer, got 0"),
        (dict(in_chans=0), r"in_chans must be a positive integer"),
    ],
)
def test_bad_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        resattn.create_model("attention56_cifar", **kwargs)


def test_attention_args_refused_by_the_baseline():
    with pytest.raises(ValueError, match="has no Attention Modules"):
        resattn.create_model("preact_resnet164_cifar", mask_act="channel")


def test_wrong_channel_count():
    model = resattn.create_model("attention56_cifar", in_chans=1)
    with pytest.raises(ValueError, match=r"Input has 3 channels but the model was built with in_chans=1"):
        model(torch.randn(1, 3, 32, 32))
    with pytest.raises(ValueError, match=r"4-D input"):
        model(torch.randn(3, 32, 32))


@pytest.mark.parametrize("name", ["attention56", "attention56_cifar", "attentionnext56"])
def test_minimum_input_size_is_exact(name, monkeypatch):
    """The named minimum works; one pixel less raises our ValueError, and PyTorch itself would fail there too."""
    model = resattn.create_model(name, num_classes=3).eval()
    m = model.min_input_size
    with torch.no_grad():
        assert model(torch.randn(1, 3, m, m)).shape == (1, 3)
        with pytest.raises(ValueError, match=rf"at least {m}x{m} pixels"):
            model(torch.randn(1, 3, m - 1, m + 40))
        monkeypatch.setattr(ResidualAttentionNet, "check_input", lambda self, x: None)
        with pytest.raises(RuntimeError):
            model(torch.randn(1, 3, m - 1, m - 1))
