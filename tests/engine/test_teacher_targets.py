"""Distillation: the teacher table (scripts/teacher_targets.py) and ``resattn train --soft-targets``."""

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from resattn.engine.checkpoint import CheckpointError, export_safetensors, load_checkpoint
from resattn.engine.config import TrainConfig
from resattn.engine.teacher_targets import load_teacher_targets, save_teacher_targets, teacher_probabilities
from resattn.engine.trainer import train


def run_config(tmp_path, name, **kwargs):
    base = dict(model="attention56_cifar", dataset="fake", val_split=100, epochs=None, iters=3, batch_size=8,
                eval_interval=3, warmup_iters=1, amp="none", channels_last=False, output=str(tmp_path / name),
                progress="none", seed=3, test=False, label_smoothing=0.1)
    base.update(kwargs)
    return TrainConfig().update(base, "test")


def test_the_table_is_the_mean_of_the_teachers_softmax():
    torch.manual_seed(0)
    x = torch.randn(7, 4)
    teachers = [nn.Linear(4, 3), nn.Linear(4, 3)]
    probs = teacher_probabilities(teachers, TensorDataset(x, torch.zeros(7)), batch_size=3, progress=False)
    with torch.no_grad():
        expected = (teachers[0](x).softmax(1) + teachers[1](x).softmax(1)) / 2
    assert probs.shape == (7, 3)
    assert torch.allclose(probs, expected, atol=1e-6)


def test_a_table_for_another_dataset_or_size_is_refused(tmp_path):
    path = save_teacher_targets(tmp_path / "t.safetensors", torch.full((5, 10), 0.1), "fake", ["a"])
    assert load_teacher_targets(path, "fake", 5, 10).shape == (5, 10)
    with pytest.raises(ValueError, match="not for 'fashion_mnist'"):
        load_teacher_targets(path, "fashion_mnist", 5, 10)
    with pytest.raises(ValueError, match=r"needs \(6, 10\)"):
        load_teacher_targets(path, "fake", 6, 10)
    weights = export_safetensors({"w": torch.zeros(2)}, tmp_path / "weights.safetensors")
    with pytest.raises(CheckpointError, match="not a table of teacher targets"):
        load_teacher_targets(weights, "fake", 5, 10)
    with pytest.raises(CheckpointError, match="no table of teacher targets at"):
        load_teacher_targets(tmp_path / "missing.safetensors", "fake", 5, 10)


def test_the_teachers_targets_steer_training(tmp_path):
    """With weight 0 the labels alone train (as without a table); with weight 1 the table's classes do."""
    train(run_config(tmp_path, "plain"))
    teacher = torch.nn.functional.one_hot((torch.arange(1000) * 7) % 10, 10).float()  # unrelated to the labels
    table = save_teacher_targets(tmp_path / "teacher.safetensors", teacher, "fake", ["made up"])
    train(run_config(tmp_path, "unused", soft_targets=str(table), soft_target_weight=0.0))
    train(run_config(tmp_path, "used", soft_targets=str(table), soft_target_weight=1.0))
    weights = {name: load_checkpoint(tmp_path / name / "last.pt")["model"]["head.fc.weight"]
               for name in ("plain", "unused", "used")}
    assert torch.allclose(weights["plain"], weights["unused"], atol=1e-5)
    assert not torch.allclose(weights["plain"], weights["used"], atol=1e-3)


def test_soft_targets_are_refused_with_label_noise(tmp_path):
    with pytest.raises(ValueError, match="clean labels"):
        train(run_config(tmp_path, "noisy", soft_targets="t.safetensors", label_noise=0.2))


def test_the_script_writes_a_table_that_training_takes(tmp_path, capsys, script_module):
    train(run_config(tmp_path, "teacher", iters=1))
    script = script_module("teacher_targets")
    table = tmp_path / "table.safetensors"
    assert script.main(["--checkpoint", str(tmp_path / "teacher" / "best.pt"), "--dataset", "fake",
                        "--output", str(table), "--amp", "none"]) == 0
    assert "(1000, 10) probabilities from 1 teacher(s)" in capsys.readouterr().out
    probs = load_teacher_targets(table, "fake", 1000, 10)
    assert torch.allclose(probs.sum(dim=1), torch.ones(1000), atol=1e-5)
    train(run_config(tmp_path, "student", iters=1, soft_targets=str(table)))
    assert script.main(["--checkpoint", str(tmp_path / "missing.pt"), "--output", str(table)]) == 1
