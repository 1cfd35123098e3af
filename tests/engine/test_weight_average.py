"""Stochastic weight averaging: the mean of the snapshots and the BatchNorm statistics of the average (the trainer's
use of it is tested in test_trainer.py)."""

import torch
from torch import nn
from torch.utils.data import TensorDataset

from resattn.engine.weight_average import WeightAverage


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.LazyLinear(3))


def test_the_average_is_the_mean_of_the_snapshots_after_start_every_interval():
    model = nn.Linear(3, 2)
    average = WeightAverage(model, start=2, interval=3)
    snapshots = []
    for step in range(11):  # the loop calls update(model, step) after its step-th optimizer step
        with torch.no_grad():
            model.weight.add_(torch.randn_like(model.weight))
            model.bias.sub_(1.0)
        average.update(model, step)
        if step + 1 in (5, 8, 11):  # start + interval, start + 2 interval, ...
            snapshots.append(model.weight.detach().clone())
    assert average.count(11) == 3 and average.count(2) == 0 and average.count(4) == 0
    torch.testing.assert_close(average.module.weight, torch.stack(snapshots).mean(0))
    assert not average.module.weight.requires_grad


def test_recomputed_batchnorm_statistics_are_those_of_the_data_and_leave_the_random_state_alone():
    model = _net()
    model(torch.zeros(2, 1, 6, 6))  # materialise the lazy layer
    average = WeightAverage(model, start=0, interval=1)
    images = torch.randn(40, 1, 6, 6) * 3 + 2
    data = TensorDataset(images, torch.zeros(40, dtype=torch.long))
    torch.manual_seed(7)
    expected_next = torch.rand(3)
    torch.manual_seed(7)
    average.recompute_batchnorm(data, batch_size=40, device=torch.device("cpu"), amp_dtype=None,
                                channels_last=False, seed=1)
    torch.testing.assert_close(torch.rand(3), expected_next)
    conv_out = average.module[0](images)
    bn = average.module[1]
    torch.testing.assert_close(bn.running_mean, conv_out.mean((0, 2, 3)))
    torch.testing.assert_close(bn.running_var, conv_out.transpose(0, 1).flatten(1).var(1))
    assert bn.momentum == 0.1 and not average.module.training
