"""Batched prediction over image files, and the results file (CSV or JSON).

An unreadable file does not stop the others: it becomes a row with an ``error`` and is reported at once, and the
caller decides the exit status from the count.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..data.input_spec import InputSpec, read_input, spec_transform

__all__ = ["Prediction", "predict_files", "write_predictions"]


@dataclass
class Prediction:
    path: str
    labels: list[str] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    probs: list[float] = field(default_factory=list)
    error: str | None = None


def _read_batch(files: Sequence[Path], spec: InputSpec, transform: Callable[[Any], Any],
                on_error: Callable[[Prediction], None]) -> tuple[list[torch.Tensor], list[Prediction]]:
    inputs, rows = [], []
    for f in files:
        try:
            inputs.append(read_input(str(f), spec, transform))
            rows.append(Prediction(str(f)))
        except (ValueError, OSError) as err:  # ImageLoadError is a ValueError that names the file
            row = Prediction(str(f), error=str(err))
            on_error(row)
            rows.append(row)
    return inputs, rows


@torch.no_grad()
def predict_files(forward: Callable[[torch.Tensor], torch.Tensor], files: Sequence[Path], spec: InputSpec,
                  class_names: Sequence[str], topk: int = 3, batch_size: int = 64, progress: bool = False,
                  on_error: Callable[[Prediction], None] = lambda row: None) -> list[Prediction]:
    """One :class:`Prediction` per file, in order: the ``topk`` classes or the reason it failed.

    Args:
        forward: Maps a float batch ``(N, C, H, W)`` to logits.
        files: Image files.
        spec: How to prepare each image for the network.
        class_names: Names by class index (an index without a name is shown as its number).
        topk: Classes per image.
        batch_size: Images per forward pass.
        progress: Show a tqdm bar over the images.
        on_error: Called with each failed row when it fails.
    """
    from tqdm import tqdm

    transform = spec_transform(spec, train=False)
    results: list[Prediction] = []
    with tqdm(total=len(files), desc="predict", unit="img", disable=not progress) as bar:
        for start in range(0, len(files), batch_size):
            chunk = files[start:start + batch_size]
            inputs, rows = _read_batch(chunk, spec, transform, on_error)
            if inputs:
                probs = forward(torch.stack(inputs)).float().softmax(dim=1).cpu()
                top = probs.topk(min(topk, probs.shape[1]), dim=1)
                good = (row for row in rows if row.error is None)
                for row, values, indices in zip(good, top.values.tolist(), top.indices.tolist()):
                    row.indices, row.probs = indices, values
                    row.labels = [class_names[i] if i < len(class_names) else str(i) for i in indices]
            results += rows
            bar.update(len(chunk))
    return results


def _csv_rows(rows: Sequence[Prediction], topk: int) -> tuple[list[str], list[dict[str, Any]]]:
    header = ["path"] + [f"{kind}{k}" for k in range(1, topk + 1) for kind in ("class", "prob")] + ["error"]
    out = []
    for row in rows:
        item: dict[str, Any] = dict(path=row.path, error=row.error or "")
        for k, (label, prob) in enumerate(zip(row.labels, row.probs), start=1):
            item[f"class{k}"], item[f"prob{k}"] = label, f"{prob:.6f}"
        out.append(item)
    return header, out


def write_predictions(rows: Sequence[Prediction], path: str | Path, topk: int, about: dict[str, Any]) -> Path:
    """Writes ``rows`` as CSV (one line per image: path, class1, prob1, ..., error) or JSON (``about`` plus a list
    of ``{path, predictions: [{label, index, prob}], error}``), chosen by the suffix of ``path``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ValueError(f"--output {path}: the results file must end in .csv or .json")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        # As many class columns as any image got: top-k is capped at the class count.
        header, items = _csv_rows(rows, max((len(r.labels) for r in rows), default=0) or topk)
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=header, restval="")
            writer.writeheader()
            writer.writerows(items)
    else:
        items = [dict(path=r.path, predictions=[dict(label=lab, index=i, prob=round(p, 6)) for lab, i, p in
                                                zip(r.labels, r.indices, r.probs)], error=r.error) for r in rows]
        path.write_text(json.dumps(dict(about, predictions=items), indent=2))
    return path
