"""Starting from trained weights: what is loaded, re-initialised and adapted, and clear errors otherwise."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import resattn
from resattn.engine.checkpoint import CheckpointError
from resattn.engine.finetune import WeightSource, adapt_stem_weight, init_from_source, read_source


def _source(in_chans: int = 1, num_classes: int = 10, names: list[str] | None = None, **kwargs) -> WeightSource:
    torch.manual_seed(123)
    net = resattn.create_model("attention56_cifar", in_chans=in_chans, num_classes=num_classes, **kwargs)
    return WeightSource("src", "attention56_cifar", dict(in_chans=in_chans, num_classes=num_classes),
                        {k: v.clone() for k, v in net.state_dict().items()}, names or [])


def test_adapted_stem_answers_a_grey_image_as_before() -> None:
    weight = torch.randn(16, 1, 3, 3)
    grey = torch.rand(1, 1, 9, 9)
    rgb = adapt_stem_weight(weight, 3)
    assert rgb.shape == (16, 3, 3, 3)
    torch.testing.assert_close(F.conv2d(grey.expand(1, 3, 9, 9), rgb), F.conv2d(grey, weight))
    colour = torch.randn(16, 3, 3, 3)
    torch.testing.assert_close(F.conv2d(grey, adapt_stem_weight(colour, 1)), F.conv2d(grey.expand(1, 3, 9, 9), colour))
    assert adapt_stem_weight(colour, 4).shape == (16, 4, 3, 3)  # timm's rule from RGB


def test_same_task_loads_everything() -> None:
    source = _source(names=list("abcdefghij"))
    model = resattn.create_model("attention56_cifar", in_chans=1, num_classes=10)
    report = init_from_source(model, source, list("abcdefghij"))
    assert not report.reinitialised and not report.adapted and len(report.loaded) == len(source.state)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, source.state[key])


def test_new_classes_and_channels() -> None:
    source = _source(names=list("abcdefghij"))
    torch.manual_seed(7)
    model = resattn.create_model("attention56_cifar", in_chans=3, num_classes=4)
    fresh_head = model.head.fc.weight.detach().clone()
    report = init_from_source(model, source, ["w", "x", "y", "z"])
    state = model.state_dict()
    assert report.reinitialised == ["head.fc.weight, head.fc.bias (10 -> 4 classes)"]
    assert report.adapted == ["stem.conv.weight (1 -> 3 input channels)"]
    torch.testing.assert_close(state["head.fc.weight"], fresh_head)  # the new head keeps its own initialisation
    torch.testing.assert_close(state["stem.conv.weight"], adapt_stem_weight(source.state["stem.conv.weight"], 3))
    torch.testing.assert_close(state["stages.1.blocks.0.conv1.weight"], source.state["stages.1.blocks.0.conv1.weight"])
    text = "\n".join(report.lines("src"))
    assert "re-initialised head.fc.weight" in text and "adapted stem.conv.weight" in text and "stages" in text


def test_same_count_other_names_resets_the_head() -> None:
    source = _source(num_classes=4, names=["a", "b", "c", "d"])
    model = resattn.create_model("attention56_cifar", in_chans=1, num_classes=4)
    report = init_from_source(model, source, ["a", "b", "c", "e"])
    assert "other class names" in report.reinitialised[0]


def test_another_architecture_is_a_clear_error() -> None:
    source = _source(mask_type="local_conv")
    model = resattn.create_model("attention56_cifar", in_chans=1, num_classes=10)
    with pytest.raises(CheckpointError, match="does not fit.*missing tensors.*--model"):
        init_from_source(model, source, [])


def test_source_arguments() -> None:
    with pytest.raises(ValueError, match="not both"):
        read_source("attention56_cifar.fmnist", "x.pt")
    with pytest.raises(ValueError, match="released tag"):
        read_source("attention56_cifar", None)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_source(None, "/nonexistent/best.pt")
    release = read_source("attention56_cifar.fmnist", None)
    assert release.model_name == "attention56_cifar" and len(release.class_names) == 10
    assert release.spec.in_chans == 1 and release.spec.img_size == 28
