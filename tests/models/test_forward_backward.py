"""Every registered model runs at its default size, at odd non-square sizes, at batch 1 in eval mode and with one
input channel."""

import pytest
import torch

import resattn

IMAGENET = [n for n in resattn.list_models() if not n.endswith("_cifar")]
CIFAR = resattn.list_models("_cifar")
# The deepest ImageNet nets cost the most; they run the same code paths as attention56/92, so they get the default
# size plus one odd size, the cheaper nets every size.
ODD_SIZES = {"imagenet": [(257, 193), (320, 320)], "cifar": [(28, 28), (40, 36)]}
HEAVY = {"attention236", "attention452", "attention164", "attention128"}


def _family(name):
    return "cifar" if name.endswith("_cifar") else "imagenet"


def _train_step(model, x):
    model.train()
    out = model(x)
    out.float().sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads), "a parameter received no gradient: dead parameters"
    assert all(torch.isfinite(g).all() for g in grads)
    return out


@pytest.mark.parametrize("name", IMAGENET + CIFAR)
def test_default_size_forward_backward(name):
    model = resattn.create_model(name, num_classes=7)
    size = model.pretrained_cfg["input_size"]
    batch = 2 if _family(name) == "cifar" else 1  # train-mode BN is fine at batch 1 with 7x7 maps
    out = _train_step(model, torch.randn(batch, *size))
    assert out.shape == (batch, 7)


@pytest.mark.parametrize("name", IMAGENET + CIFAR)
def test_odd_sizes_batch1_eval_and_grayscale(name):
    sizes = ODD_SIZES[_family(name)]
    if name in HEAVY:
        sizes = sizes[:1]
    model = resattn.create_model(name, num_classes=5, in_chans=1)
    h, w = sizes[0]
    _train_step(model, torch.randn(1, 1, h, w))
    model.eval()
    for h, w in sizes:
        with torch.no_grad():
            single = model(torch.randn(1, 1, h, w))
        assert single.shape == (1, 5)
        assert torch.isfinite(single).all()


def test_eval_mode_is_batch_independent():
    model = resattn.create_model("attention56_cifar").eval()
    x = torch.randn(3, 3, 36, 44)
    with torch.no_grad():
        full = model(x)
        one = model(x[1:2])
    torch.testing.assert_close(full[1:2], one, rtol=1e-4, atol=1e-5)
