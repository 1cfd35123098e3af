"""Mask health: statistics against hand-computed masks, knock-outs, the report, and the trainer's logging."""

import math

import pytest
import torch
from torch import nn

from resattn import create_model
from resattn.analysis.mask_health import (
    FLAT_CONTRAST,
    MaskHealthMeter,
    analyze_masks,
    flat_stages,
    knock_out_masks,
    stage_contrast,
)
from resattn.engine import metrics_writer
from resattn.engine.builders import param_groups
from resattn.engine.loop import evaluate
from resattn.engine.trainer import train
from resattn.layers.soft_mask import MaskActivation
from resattn.viz.recorder import record_masks


class _Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.act = MaskActivation("mixed")


class _Mask(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = _Head()


class _Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.mask = _Mask()

    def forward(self, x):
        return self.mask.head.act(x)


class _Toy(nn.Module):
    """One 'Attention Module' whose mask is sigmoid(input): a mask of our choosing goes in as its logit."""

    def __init__(self):
        super().__init__()
        self.stages = nn.ModuleList([nn.Sequential(_Block())])

    def forward(self, x):
        return self.stages[0](x)


def _logit(p):
    return torch.log(p / (1 - p))


def test_meter_statistics_match_a_hand_computed_mask():
    # channel 0: 0.5 everywhere (no contrast); channel 1: a 0.2 / 0.8 checkerboard (spatial std 0.3)
    mask = torch.full((2, 2, 4, 4), 0.5)
    board = (torch.arange(4)[:, None] + torch.arange(4)[None, :]) % 2
    mask[:, 1] = 0.2 + 0.6 * board
    model = _Toy()
    with MaskHealthMeter(model) as meter:
        model(_logit(mask[:1]))  # two passes of one image: the sums must add up across passes
        model(_logit(mask[1:]))
    (name, stats), = meter.summary().items()
    assert name == "stages.0.0"
    assert stats["stage"] == "stage1"
    assert stats["mean"] == pytest.approx(0.5, abs=1e-6)
    assert stats["std"] == pytest.approx(math.sqrt(0.045), abs=1e-6)  # half the values 0.5, half 0.2 / 0.8
    assert stats["frac_outside"] == pytest.approx(0.5)
    assert stats["contrast_median"] == pytest.approx(0.15, abs=1e-6)  # channels [0, 0.3]
    assert stats["contrast_q25"] == pytest.approx(0.075, abs=1e-6)
    assert stats["contrast_q75"] == pytest.approx(0.225, abs=1e-6)


def test_meter_refuses_a_model_without_masks():
    with pytest.raises(ValueError, match="no soft-mask"):
        MaskHealthMeter(create_model("preact_resnet164_cifar"))


def test_stage_contrast_and_flat_stages():
    summary = {"a": dict(stage="stage1", contrast_median=0.2), "b": dict(stage="stage1", contrast_median=0.0),
               "c": dict(stage="stage2", contrast_median=0.001)}
    contrast = stage_contrast(summary)
    assert contrast == pytest.approx({"stage1": 0.1, "stage2": 0.001})
    assert flat_stages(contrast) == ["stage2"]
    assert FLAT_CONTRAST > 0.001


@pytest.fixture(scope="module")
def small_net():
    torch.manual_seed(0)
    return create_model("attention56_cifar", num_classes=4, in_chans=1).eval()


def test_spatial_mean_knock_out_keeps_channel_means_and_removes_contrast(small_net):
    x = torch.randn(3, 1, 16, 16)
    ref_out, ref_masks = record_masks(small_net, x)
    with knock_out_masks(small_net, ["stages.1.blocks.1"], "spatial_mean"):
        out, masks = record_masks(small_net, x)
    name = "stages.1.blocks.1.mask.head.act"
    flat = masks[name]
    assert torch.allclose(flat.mean(dim=(2, 3)), ref_masks[name].mean(dim=(2, 3)), atol=1e-6)
    assert flat.flatten(2).std(dim=2).max() < 1e-6 < ref_masks[name].flatten(2).std(dim=2).max()
    # the module before it is untouched, the output changed, and leaving the context restores the model
    assert torch.equal(masks["stages.0.blocks.1.mask.head.act"], ref_masks["stages.0.blocks.1.mask.head.act"])
    assert not torch.allclose(out, ref_out)
    assert torch.equal(record_masks(small_net, x)[0], ref_out)


def test_constant_knock_out_of_every_module(small_net):
    x = torch.randn(2, 1, 16, 16)
    with knock_out_masks(small_net, None, "constant"):
        _, masks = record_masks(small_net, x)
    assert len(masks) == 3
    assert all(torch.all(m == 0.5) for m in masks.values())


def test_knock_out_errors(small_net):
    with pytest.raises(ValueError, match="Unknown knock-out"), knock_out_masks(small_net, None, "zero"):
        pass
    with pytest.raises(ValueError, match="stages.0.blocks.1"), knock_out_masks(small_net, ["stages.9"], "constant"):
        pass


def test_analyze_masks_report(small_net):
    torch.manual_seed(1)
    data = [(torch.randn(8, 1, 16, 16), torch.randint(0, 4, (8,))) for _ in range(2)]
    seen = []
    report = analyze_masks(small_net, lambda: data, lambda m, b: evaluate(m, b, torch.device("cpu")), seen.append)
    assert report["top1"] == evaluate(small_net, data, torch.device("cpu"))["top1"]
    assert list(report["modules"]) == ["stages.0.blocks.1", "stages.1.blocks.1", "stages.2.blocks.1"]
    assert len(seen) == 1 + 3 * 2 + 2
    for stats in report["modules"].values():
        assert {"knockout_spatial_mean_top1", "knockout_constant_top1", "contrast_median"} <= set(stats)
    assert set(report["stages"]) == {"stage1", "stage2", "stage3"}
    # an untrained net's masks are far from flat
    assert report["flat_stages"] == []


def test_param_groups_split_the_mask_branches():
    model = create_model("attention56_cifar", num_classes=4, in_chans=1)
    assert len(param_groups(model, 5e-4, None)) == 1
    rest, mask = param_groups(model, 5e-4, 0.0)
    assert (rest["weight_decay"], mask["weight_decay"]) == (5e-4, 0.0)
    names = {id(p): n for n, p in model.named_parameters()}
    assert all(".mask." in names[id(p)] for p in mask["params"])
    assert not any(".mask." in names[id(p)] for p in rest["params"])
    assert len(rest["params"]) + len(mask["params"]) == len(names)
    with pytest.raises(ValueError, match="no soft-mask"):
        param_groups(create_model("preact_resnet164_cifar"), 5e-4, 0.0)


@pytest.mark.parametrize("mask_decay, branch_decay", [(None, 5e-4), (1e-3, 1e-3)])
def test_param_groups_split_the_mask_heads_off_their_branches(mask_decay, branch_decay):
    model = create_model("attention56_cifar", num_classes=4, in_chans=1)
    rest, branch, head = param_groups(model, 5e-4, mask_decay, 0.0)
    assert (rest["weight_decay"], branch["weight_decay"], head["weight_decay"]) == (5e-4, branch_decay, 0.0)
    names = {id(p): n for n, p in model.named_parameters()}
    head_names = sorted(names[id(p)] for p in head["params"])
    # bn1, conv1, bn2, conv2 of the one Attention Module in each of the three stages
    assert len(head_names) == 3 * 6 and all(".mask.head." in n for n in head_names)
    assert all(".mask." in names[id(p)] and ".mask.head." not in names[id(p)] for p in branch["params"])
    assert not any(".mask." in names[id(p)] for p in rest["params"])
    assert len(rest["params"]) + len(branch["params"]) + len(head["params"]) == len(names)
    with pytest.raises(ValueError, match="--mask-head-weight-decay: preact_resnet164_cifar has no soft-mask"):
        param_groups(create_model("preact_resnet164_cifar"), 5e-4, None, 0.0)


@pytest.mark.parametrize("field", ["weight_decay", "mask_weight_decay", "mask_head_weight_decay"])
def test_a_negative_weight_decay_is_refused_before_training(field):
    from resattn.engine.builders import check_config
    from resattn.engine.config import TrainConfig

    cfg = TrainConfig().update({"model": "attention56_cifar", "dataset": "fake", "amp": "none", field: -1e-4}, "test")
    with pytest.raises(ValueError, match=f"--{field.replace('_', '-')} must be 0 or more, got -0.0001"):
        check_config(cfg, torch.device("cpu"))


def test_training_logs_stage_contrast_and_says_once_when_masks_go_flat(tmp_path, monkeypatch, capsys):
    from resattn.engine.config import TrainConfig

    monkeypatch.setattr(metrics_writer, "flat_stages", lambda contrast: flat_stages(contrast, threshold=1e9))
    cfg = TrainConfig().update(dict(model="attention56_cifar", dataset="fake", val_split=100, epochs=None, iters=4,
                                    batch_size=8, eval_interval=2, warmup_iters=1, amp="none",
                                    channels_last=False, output=str(tmp_path / "run"), progress="log", seed=0,
                                    mask_weight_decay=0.0), "test")
    train(cfg)
    lines = (tmp_path / "run" / "summary.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert header[-3:] == ["mask_contrast_stage1", "mask_contrast_stage2", "mask_contrast_stage3"]
    assert all(float(v) > 0 for line in lines[1:] for v in line.split(",")[-3:])
    out = capsys.readouterr().out
    for stage in ("stage1", "stage2", "stage3"):
        assert out.count(f"soft masks of {stage} went flat") == 1  # two evaluations, said once


def test_analyze_masks_command_prints_a_table_and_writes_json_and_plot(tmp_path, capsys):
    import json

    from resattn.cli import main
    from resattn.engine.config import TrainConfig

    run = tmp_path / "run"
    train(TrainConfig().update(dict(model="attention56_cifar", dataset="fake", val_split=100, epochs=None, iters=2,
                                    batch_size=8, warmup_iters=1, amp="none", channels_last=False, output=str(run),
                                    progress="none", test=False), "test"))
    capsys.readouterr()
    out = tmp_path / "records" / "health.png"  # a folder not made yet: the command makes it
    assert main(["analyze", "masks", "--checkpoint", str(run / "best.pt"), "--split", "val", "--num-images", "16",
                 "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "(16 images)" in printed and printed.count("| stages.") == 3 and "| all modules |" in printed
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["images"] == 16 and set(report["stages"]) == {"stage1", "stage2", "stage3"}
    assert out.stat().st_size > 10_000  # a real figure, not an empty canvas


def test_analyze_masks_command_errors_are_one_line(capsys):
    from resattn.cli import main

    assert main(["analyze", "masks", "--model", "preact_resnet164_cifar", "--dataset", "fake"]) == 2
    assert "has no soft masks" in capsys.readouterr().err
    assert main(["analyze", "masks", "--dataset", "fake"]) == 2
    assert "Give one of --checkpoint" in capsys.readouterr().err
