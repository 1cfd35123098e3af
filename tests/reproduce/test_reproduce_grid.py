import dataclasses
import json
import os

import pytest
import torch

from resattn.cli import main
from resattn.engine import trainer
from resattn.engine.checkpoint import load_checkpoint
from resattn.reproduce import experiments as ex
from resattn.reproduce import grid
from resattn.reproduce.grid import run_experiment, summarise

SMALL = dict(val_split=100, batch_size=8)
real_train = trainer.train


@pytest.fixture
def tiny(monkeypatch):
    """table4 with 2 iterations per run on fake data, analysed on 16 test images."""
    monkeypatch.setitem(ex.EXPERIMENTS, "table4", dataclasses.replace(ex.EXPERIMENTS["table4"], small_iters=2))
    monkeypatch.setattr(grid, "ANALYSIS_IMAGES", 16)


def test_grid_writes_results_and_resumes(tiny, tmp_path, monkeypatch):
    out = tmp_path / "grid"
    rows = run_experiment("table4", dataset="fake", seeds=2, output=out, progress="none", log=lambda m: None,
                          overrides=SMALL)
    assert len(rows) == 4 and {r["label"] for r in rows} == {"local convolutions", "encoder-decoder"}
    assert (out / "results.csv").read_text().count("\n") == 5
    md = (out / "results.md").read_text()
    assert "| encoder-decoder |" in md and "5.52" in md and (out / "results.png").exists()
    # every run's mask health: one contrast per stage, measured on 16 test images
    assert "on 16 test images" in md
    health = [line for line in md.splitlines() if line.startswith("| local convolutions | ")]
    assert len(health) == 3  # the error table's row, then one row per seed in the mask-health table
    assert all(len(json.loads(r["mask_contrast"])) == 3 and r["knockout_constant_drop"] is not None for r in rows)
    # A killed grid: one run was stopped after step 1 of 2 (no results, its newest checkpoint that of step 1);
    # the others finished and are read back.
    run = out / "encoder-decoder" / "seed1"
    finished = load_checkpoint(run / "last.pt")
    assert finished["step"] == 2 and load_checkpoint(run / "last.prev.pt")["step"] == 1
    (run / "results.json").unlink()
    os.replace(run / "last.prev.pt", run / "last.pt")
    started = []
    monkeypatch.setattr(trainer, "train", lambda cfg: started.append(cfg) or real_train(cfg))
    messages = []
    again = run_experiment("table4", dataset="fake", seeds=2, output=out, progress="none", log=messages.append,
                           overrides=SMALL)
    assert sum("done earlier" in m for m in messages) == 3
    assert [(c.output, c.resume) for c in started] == [(str(run), "auto")]  # only the stopped run, continued
    resumed = load_checkpoint(run / "last.pt")
    assert resumed["step"] == 2 and json.loads((run / "results.json").read_text())["iterations"] == 2
    for key, value in finished["model"].items():  # step 2 again, bit for bit
        assert torch.equal(resumed["model"][key], value), key
    assert [r["test_top1"] for r in again] == [r["test_top1"] for r in rows]


def test_a_stopped_run_stops_the_grid_and_the_same_command_continues_it(tiny, tmp_path, monkeypatch):
    """Ctrl-C or SIGTERM during a run: the trainer writes its checkpoint and returns no results. The grid stops there
    with a message, not a traceback, and releases the run's claim, so that the next process, even under --parallel,
    continues it."""
    started = []

    def second_run_stopped(cfg):
        started.append(cfg.output)
        return dict(stopped_at=1) if len(started) == 2 else real_train(cfg)

    monkeypatch.setattr(trainer, "train", second_run_stopped)
    out, messages = tmp_path / "grid", []
    kwargs = dict(dataset="fake", seeds=1, output=out, progress="none", overrides=SMALL, parallel=True)
    rows = run_experiment("table4", log=messages.append, **kwargs)
    assert [r["label"] for r in rows] == ["local convolutions"] and len(started) == 2
    assert messages[-1] == ("[table4] encoder-decoder seed 0: stopped at step 1; the same command continues the grid "
                            "from there")
    monkeypatch.setattr(trainer, "train", lambda cfg: started.append(cfg.output) or real_train(cfg))
    again = run_experiment("table4", log=messages.append, **kwargs)
    assert [r["label"] for r in again] == ["local convolutions", "encoder-decoder"]
    assert started[2:] == [started[1]]  # the stopped run alone, by this process


def test_summary_mean_and_spread():
    rows = [dict(label="a", test_error=e, paper_error=1.0) for e in (2.0, 4.0)]
    (s,) = summarise(rows)
    assert s["mean"] == 3.0 and s["std"] == pytest.approx(2 ** 0.5) and s["seeds"] == 2
    (one,) = summarise(rows[:1])
    assert one["mean"] == 2.0 and one["std"] is None and one["seeds"] == 1  # one seed has no spread, not a spread of 0


def test_every_table_is_data():
    assert set(ex.EXPERIMENTS) == {"table1", "table3", "table4", "table5", "fig4"}
    assert len(ex.EXPERIMENTS["table3"].runs) == 8 and len(ex.EXPERIMENTS["table5"].runs) == 8
    noisy = [r.train["label_noise"] for r in ex.EXPERIMENTS["table5"].runs]
    assert sorted(set(noisy)) == [0.1, 0.3, 0.5, 0.7]


def test_cli_errors(capsys):
    assert main(["reproduce", "table1", "--seeds", "0", "--dataset", "fake"]) == 2
    assert "--seeds must be at least 1" in capsys.readouterr().err


def test_parallel_processes_share_a_grid_and_collect_writes_the_tables(tiny, tmp_path):
    out = tmp_path / "grid"
    # another process already claimed one run (and is still training it)
    claimed = out / "local-convolutions" / "seed1"
    claimed.mkdir(parents=True)
    (claimed / "claimed").write_text("12345")
    rows = run_experiment("table4", dataset="fake", seeds=2, output=out, progress="none", log=lambda m: None,
                          overrides=SMALL, parallel=True)
    assert [(r["label"], r["seed"]) for r in rows] == [("local convolutions", 0), ("encoder-decoder", 0),
                                                        ("encoder-decoder", 1)]
    assert not (out / "results.csv").exists()  # tables are the collect pass's job
    messages = []
    collected = run_experiment("table4", dataset="fake", seeds=2, output=out, progress="none", log=messages.append,
                               collect=True)
    assert len(collected) == 3 and not (claimed / "results.json").exists()  # collect trains nothing
    assert any("not finished" in m and "local convolutions seed 1" in m for m in messages)
    error_rows = [ln for ln in (out / "results.md").read_text().splitlines() if ln.startswith("| encoder-decoder | ")
                  and "±" in ln]
    assert len(error_rows) == 1
    with pytest.raises(ValueError, match="choose one"):
        run_experiment("table4", dataset="fake", output=out, parallel=True, collect=True)
