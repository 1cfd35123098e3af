"""The run's reports: summary.csv rows, the flat-mask warning once per run (a resume included), rank 0 alone."""

import csv
import time

from resattn.engine.metrics_writer import SUMMARY_FIELDS, MetricsWriter

VAL = dict(loss=1.0, top1=50.0, top5=90.0)
CONTRAST = {"stage1": 0.5, "stage2": 0.0}  # stage2's masks are flat


def _rows(folder):
    with (folder / "summary.csv").open() as f:
        return list(csv.DictReader(f))


def test_a_row_per_evaluation_and_a_flat_stage_said_once_across_a_resume(tmp_path, capsys):
    writer = MetricsWriter(tmp_path, enabled=True, total_iters=4, world_size=2)
    for _ in range(2):
        writer.step_done(images=8)
    writer.add_loss(3.0)
    time.sleep(0.2)  # evaluating is not training: the time after the last step is left out of images_per_s
    writer.evaluation(2, 0.5, 0.1, 1.0, VAL, CONTRAST)
    writer.new_window()
    out = capsys.readouterr().out
    assert out.count("went flat") == 1 and "soft masks of stage2 went flat at step 2" in out
    assert "step 2/4 epoch 0.50: train loss 1.5000, val top-1 50.00% top-5 90.00%, mask contrast 0.500 / 0.000, " in out

    (row,) = _rows(tmp_path)
    assert list(row) == SUMMARY_FIELDS + ["mask_contrast_stage1", "mask_contrast_stage2"]
    assert (row["train_loss"], row["val_top1"], row["mask_contrast_stage2"]) == ("1.5", "50.0", "0.0")
    assert float(row["images_per_s"]) > 32 / 0.2  # 2 steps x 8 images x 2 ranks
    assert (tmp_path / "curves.png").stat().st_size > 0

    resumed = MetricsWriter(tmp_path, enabled=True, total_iters=4, world_size=2)
    resumed.keep_rows_up_to(2)  # rows read back from the file: strings
    resumed.evaluation(4, 1.0, 0.1, 2.0, VAL, CONTRAST)
    assert "went flat" not in capsys.readouterr().out
    assert [r["step"] for r in _rows(tmp_path)] == ["2", "4"]


def test_a_resumed_run_drops_the_rows_after_its_checkpoint(tmp_path):
    writer = MetricsWriter(tmp_path, enabled=True, total_iters=6, world_size=1)
    for step in (2, 4, 6):
        writer.evaluation(step, step / 2, 0.1, 1.0, VAL, {})
    resumed = MetricsWriter(tmp_path, enabled=True, total_iters=6, world_size=1)
    resumed.keep_rows_up_to(4)
    resumed.evaluation(6, 3.0, 0.1, 1.0, VAL, {})
    assert [r["step"] for r in _rows(tmp_path)] == ["2", "4", "6"]


def test_another_rank_writes_and_says_nothing(tmp_path, capsys):
    writer = MetricsWriter(tmp_path, enabled=False, total_iters=2, world_size=2)
    writer.open(show_bar=False, step=0)
    writer.step_done(images=8)
    writer.evaluation(2, 1.0, 0.1, 1.0, VAL, CONTRAST)
    writer.log("hello")
    writer.close()
    assert list(tmp_path.iterdir()) == [] and capsys.readouterr().out == ""
