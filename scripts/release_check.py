"""Measure a finished release run against the bars set before it was trained, and keep the records.

    python scripts/release_check.py runs/release_fmnist [--output docs/runs/release_fmnist_check] [--device cpu]

Runs, on the CPU in fp32 as the released numbers are recorded:

1. ``resattn validate --split test`` on ``best.safetensors``, the weights the run ships (this is the one look at the
   test split): those of the checkpoint selected on validation (its weight average or EMA where the run keeps one),
   or the final weights of a run without a validation split (``--val-split 0``);
2. ``resattn analyze masks --split val`` (where the run has one) and ``--split test`` (contrast per stage, the top-1
   lost when every mask loses its spatial structure or becomes 0.5);

then prints each bar (docs/attention_maps.md#what-flattens-the-masks) with its measured value and PASS or FAIL, and
writes everything to OUTPUT (``validate_test.json``, ``mask_health_{val,test}.{json,png,txt}``, ``bars.json``).
Exit status 0 if every bar passes, 1 otherwise; the weights are not copied anywhere.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import yaml

# Set from the ablation before the release was trained (docs/attention_maps.md#what-flattens-the-masks).
MIN_TEST_TOP1 = 95.0
MIN_STAGE_CONTRAST = 0.03
MIN_SPATIAL_KNOCKOUT = 0.5  # test top-1 points lost when every mask is replaced by its spatial mean


def _run(argv: list[str], log: Path) -> None:
    print("$", " ".join(argv), flush=True)
    with log.open("w") as f:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        f.write(proc.stdout)
    print(proc.stdout, end="", flush=True)
    if proc.returncode:
        sys.exit(f"failed ({proc.returncode}): {' '.join(argv)}")


def bars(test: dict, health: dict) -> list[dict]:
    """Each bar with its measured value and whether it passes."""
    # accuracies are percentages with two decimals: compare the difference at that precision, not its float error
    knockout = round(health["top1"] - health["all_modules"]["knockout_spatial_mean_top1"], 2)
    rows = [dict(bar=f"test top-1 >= {MIN_TEST_TOP1}%", value=test["top1"], passed=test["top1"] >= MIN_TEST_TOP1),
            dict(bar=f"M -> spatial mean costs >= {MIN_SPATIAL_KNOCKOUT} test points", value=knockout,
                 passed=knockout >= MIN_SPATIAL_KNOCKOUT)]
    for stage, contrast in health["stages"].items():
        rows.append(dict(bar=f"{stage} median spatial contrast >= {MIN_STAGE_CONTRAST}", value=round(contrast, 4),
                         passed=contrast >= MIN_STAGE_CONTRAST))
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path, help="the release's finished run folder (holds best.safetensors)")
    p.add_argument("--output", type=Path, help="records folder (default: RUN/release_check)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--num-images", type=int, help="measure the masks on the first N images of each split only "
                                                  "(a quick look; the bars are read on the whole test split)")
    args = p.parse_args()
    config = args.run / "config.yaml"
    validated = not config.is_file() or yaml.safe_load(config.read_text()).get("val_split") != 0
    # best.safetensors and results.json are written when the run has ended (best.pt exists from its first evaluation
    # on): checking earlier would look at the test split before the selection on validation is complete.
    best = args.run / "best.safetensors"
    if not best.is_file() or not (args.run / "results.json").is_file():
        p.error(f"{args.run} has no {best.name} and results.json: the run has not finished (continue it with "
                f"./scripts/train_release.sh)")
    out = args.output or args.run / "release_check"
    out.mkdir(parents=True, exist_ok=True)
    resattn = [sys.executable, "-m", "resattn"]
    _run(resattn + ["validate", "--checkpoint", str(best), "--split", "test", "--device", args.device,
                    "--results-file", str(out / "validate_test.json")], out / "validate_test.txt")
    subset = ["--num-images", str(args.num_images)] if args.num_images else []
    for split in ("val", "test") if validated else ("test",):
        _run(resattn + ["analyze", "masks", "--checkpoint", str(best), "--split", split, "--device", args.device,
                        "--output", str(out / f"mask_health_{split}.png")] + subset, out / f"mask_health_{split}.txt")
    test = json.loads((out / "validate_test.json").read_text())
    health = json.loads((out / "mask_health_test.json").read_text())
    rows = bars(test, health)
    (out / "bars.json").write_text(json.dumps(rows, indent=2))
    for row in rows:
        print(f"{'PASS' if row['passed'] else 'FAIL'}  {row['bar']}: {row['value']}")
    return 0 if all(row["passed"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
