"""The learning-rate schedule against values worked out by hand: warm-up, multistep drops, cosine, fractions."""

from __future__ import annotations

import csv

import pytest

from resattn.engine.config import TrainConfig
from resattn.engine.schedule import IterSchedule
from resattn.engine.trainer import train


def lrs(schedule: IterSchedule, steps) -> list[float]:
    return [schedule(step) for step in steps]


def test_multistep_drops_at_each_milestone_step():
    s = IterSchedule(0.1, 10, "multistep", milestones=(4, 7), gamma=0.1)
    assert lrs(s, range(10)) == pytest.approx([0.1] * 4 + [0.01] * 3 + [0.001] * 3)


def test_the_papers_cifar_schedule():
    # paper section 4.1: 0.1, divided by 10 at 64k and 96k iterations, 160k in all
    s = IterSchedule(0.1, 160_000, "multistep", milestones=(64_000, 96_000), gamma=0.1)
    assert lrs(s, [0, 63_999, 64_000, 95_999, 96_000, 159_999]) == pytest.approx(
        [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])


def test_linear_warm_up_then_multistep():
    # warm-up over 4 steps: 1/4, 2/4, 3/4, 4/4 of the rate; then the drop at step 6
    s = IterSchedule(0.4, 8, "multistep", milestones=(6,), gamma=0.5, warmup_iters=4)
    assert lrs(s, range(8)) == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.4, 0.4, 0.2, 0.2])


def test_cosine_after_warm_up():
    # 4 warm-up steps, then half a cosine period over the remaining 96: lr = 0.2 (1 + cos(pi t / 96)), t = step - 4
    s = IterSchedule(0.4, 100, "cosine", warmup_iters=4)
    assert lrs(s, [0, 3, 4, 28, 52, 76, 99]) == pytest.approx(
        [0.1, 0.4, 0.4, 0.341421356, 0.2, 0.058578644, 0.000107082], abs=1e-9)


def test_cosine_without_warm_up_and_constant():
    assert lrs(IterSchedule(1.0, 4, "cosine"), range(4)) == pytest.approx([1.0, 0.853553391, 0.5, 0.146446609])
    assert lrs(IterSchedule(0.05, 3, "constant", warmup_iters=2), range(4)) == pytest.approx([0.025, 0.05, 0.05, 0.05])


@pytest.mark.parametrize("kwargs, message", [(dict(kind="step"), "Unknown sched 'step'"),
                                             (dict(total_iters=0), "at least one iteration")])
def test_bad_schedules_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        IterSchedule(**{"base_lr": 0.1, "total_iters": 10, **kwargs})


def test_fractional_milestones_are_fractions_of_the_run(tmp_path):
    """--milestones 0.5 0.75 in an 8-iteration run drop the rate at steps 4 and 6; the run's summary shows it."""
    cfg = TrainConfig().update(dict(
        model="attention56_cifar", dataset="fake", val_split=16, epochs=None, iters=8, batch_size=4, lr=0.1,
        sched="multistep", milestones=[0.5, 0.75], lr_gamma=0.1, warmup_iters=0, eval_interval=1, amp="none",
        channels_last=False, test=False, output=str(tmp_path / "run"), progress="none"), "test")
    train(cfg)
    with (tmp_path / "run" / "summary.csv").open() as f:
        rows = list(csv.DictReader(f))
    # each row holds the rate of the step that ended there: steps 0-3 at 0.1, 4-5 at 0.01, 6-7 at 0.001
    assert [int(r["step"]) for r in rows] == list(range(1, 9))
    assert [float(r["lr"]) for r in rows] == pytest.approx([0.1] * 4 + [0.01] * 2 + [0.001] * 2)
