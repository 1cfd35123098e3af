"""What a training run reports, written by rank 0 alone (every other rank's writer stays silent).

Log lines on stdout (through the progress bar when one shows), ``summary.csv`` (one row per evaluation: the columns of
``SUMMARY_FIELDS``, then one ``mask_contrast_<stage>`` column per stage of an attention network), TensorBoard scalars
in ``tb/``, and ``curves.png``. A stage whose soft masks went flat is said once per run, at the first evaluation that
finds it flat.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

from ..analysis.mask_health import FLAT_CONTRAST, flat_stages
from .plots import plot_curves

__all__ = ["CONTRAST_PREFIX", "SUMMARY_FIELDS", "MetricsWriter"]

SUMMARY_FIELDS = ["step", "epoch", "train_loss", "val_loss", "val_top1", "val_top5", "lr", "images_per_s", "wall_s"]
CONTRAST_PREFIX = "mask_contrast_"  # median per-channel spatial std of M, per stage
TB_SCALARS = ("train_loss", "val_loss", "val_top1", "val_top5", "lr", "images_per_s")


class MetricsWriter:
    """The reports of one run in ``out``; ``enabled`` only on rank 0.

    Between two evaluations it sums the training loss and counts steps and images (the window), for the next row's
    ``train_loss`` and ``images_per_s``.
    """

    def __init__(self, out: Path, enabled: bool, total_iters: int, world_size: int) -> None:
        self.out, self.enabled, self.total_iters, self.world_size = out, enabled, total_iters, world_size
        self.rows: list[dict[str, Any]] = []
        self.bar = None  # tqdm, while the loop runs with --progress bar (or auto on a terminal)
        self.tb = None  # TensorBoard writer, while the loop runs
        self.new_window()

    def log(self, message: str) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(message)
        else:
            print(message, flush=True)

    def open(self, show_bar: bool, step: int) -> None:
        """Starts TensorBoard and, with ``show_bar``, the progress bar at ``step``."""
        if not self.enabled:
            return
        from torch.utils.tensorboard import SummaryWriter

        self.tb = SummaryWriter(str(self.out / "tb"))
        if show_bar:
            from tqdm import tqdm

            self.bar = tqdm(total=self.total_iters, initial=step, desc="train", dynamic_ncols=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.tb is not None:
            self.tb.close()
            self.tb = None

    def keep_rows_up_to(self, step: int) -> None:
        """A resumed run's rows: those of summary.csv up to the resumed step (later ones are repeated)."""
        path = self.out / "summary.csv"
        if self.enabled and path.exists():
            with path.open() as f:
                self.rows = [row for row in csv.DictReader(f) if int(row["step"]) <= step]

    def new_window(self) -> None:
        now = time.perf_counter()
        self.window = dict(loss=0.0, steps=0, images=0, start=now, end=now)

    def step_done(self, images: int) -> None:
        """One step of ``images`` per rank; the window's time ends with its last step (evaluating is not training)."""
        self.window["steps"] += 1
        self.window["images"] += images * self.world_size
        self.window["end"] = time.perf_counter()
        if self.bar is not None:
            self.bar.update(1)

    def add_loss(self, total: float) -> None:
        self.window["loss"] += total

    def show_loss(self, step: int, mean: float, lr: float, log_line: bool) -> None:
        """The mean loss since the last reading: on the bar, else as a log line when ``log_line``."""
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{mean:.3f}", lr=f"{lr:.4f}", refresh=False)
        elif log_line:
            self.log(f"step {step}/{self.total_iters} loss {mean:.4f} lr {lr:.5f}")

    def evaluation(self, step: int, epoch: float, lr: float, wall_s: float, metrics: dict[str, float] | None,
                   contrast: dict[str, float]) -> None:
        """One row of summary.csv: the window's training numbers, validation ``metrics`` (None in a run without a
        validation split: those columns stay empty) and the stages' mask ``contrast``; also TensorBoard, curves.png
        and a log line."""
        if not self.enabled:
            return
        w = self.window
        row: dict[str, Any] = dict(
            step=step, epoch=epoch, train_loss=round(w["loss"] / max(1, w["steps"]), 5), lr=lr,
            images_per_s=round(w["images"] / max(w["end"] - w["start"], 1e-9), 1), wall_s=round(wall_s, 1),
        )
        if metrics is not None:
            row.update(val_loss=round(metrics["loss"], 5), val_top1=round(metrics["top1"], 3),
                       val_top5=round(metrics["top5"], 3))
        self._warn_new_flat_stages(step, contrast)
        row.update({f"{CONTRAST_PREFIX}{stage}": round(value, 6) for stage, value in contrast.items()})
        self.rows.append(row)
        self._write_summary()
        plot_curves(self.rows, self.out / "curves.png")
        if self.tb is not None:
            for key in TB_SCALARS:
                if key in row:
                    self.tb.add_scalar(key, row[key], step)
            for stage in contrast:
                self.tb.add_scalar(f"mask_contrast/{stage}", row[f"{CONTRAST_PREFIX}{stage}"], step)
            self.tb.flush()
        validation = (f"val top-1 {row['val_top1']:.2f}% top-5 {row['val_top5']:.2f}%" if metrics is not None
                      else "no validation split")
        masks = f"mask contrast {' / '.join(f'{value:.3f}' for value in contrast.values())}, " if contrast else ""
        self.log(f"step {step}/{self.total_iters} epoch {epoch:.2f}: train loss {row['train_loss']:.4f}, {validation}, "
                 f"{masks}{row['images_per_s']:.0f} img/s")

    def _warn_new_flat_stages(self, step: int, contrast: dict[str, float]) -> None:
        """Says when a stage's masks went flat, once per run: stages flat in an earlier row were said already."""
        earlier = set()
        for row in self.rows:  # rows read back from summary.csv hold strings, "" where a stage has no value
            earlier |= set(flat_stages({key[len(CONTRAST_PREFIX):]: float(value) for key, value in row.items()
                                        if key.startswith(CONTRAST_PREFIX) and value != ""}))
        for stage in flat_stages(contrast):
            if stage not in earlier:
                self.log(f"warning: the soft masks of {stage} went flat at step {step} (median per-channel spatial "
                         f"std of M {contrast[stage]:.4f} < {FLAT_CONTRAST}): they no longer say where to look "
                         f"(docs/attention_maps.md#mask-health)")

    def _write_summary(self) -> None:
        extra = sorted({key for row in self.rows for key in row if key not in SUMMARY_FIELDS})
        with (self.out / "summary.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=SUMMARY_FIELDS + extra, restval="")
            writer.writeheader()
            writer.writerows(self.rows)
