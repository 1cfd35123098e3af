"""Score `resattn predict` output of a Fashion-MNIST model on the coarse folder task, mapping its ten classes to four.

    resattn predict --model attention56_cifar.fmnist --pretrained data/fmnist_coarse/test --output release.csv --topk 1
    python scripts/score_fmnist_coarse.py release.csv

The true class of each row is its folder name (``.../test/<coarse class>/<file>.png``); a predicted Dress counts as
wrong, as dresses belong to none of the four classes.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from make_fmnist_coarse import COARSE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("predictions", help="CSV written by resattn predict --output")
    args = parser.parse_args()
    to_coarse = {fine: coarse for coarse, fines in COARSE.items() for fine in fines}
    with open(args.predictions, newline="") as f:
        rows = [r for r in csv.DictReader(f) if not r["error"]]
    right = sum(to_coarse.get(r["class1"]) == Path(r["path"]).parent.name for r in rows)
    print(f"{right} of {len(rows)} right ({100 * right / max(1, len(rows)):.1f}%) with the ten classes mapped to "
          f"{', '.join(COARSE)}")


if __name__ == "__main__":
    main()
