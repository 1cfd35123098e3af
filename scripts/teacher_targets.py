"""Write the table of teacher predictions that ``resattn train --soft-targets`` distils from.

    python scripts/teacher_targets.py --checkpoint A.safetensors [--checkpoint B.pt] [--model TAG] \
        --dataset fashion_mnist --output teachers.safetensors

Every teacher (a run's weights, or a released tag with ``--model``) predicts every image of the dataset's full
training split, without augmentation; the table holds the mean of their class probabilities, one row per image.
Teachers that have seen a run's validation images would leak them into its targets: distil only from teachers
trained with the same validation split, or with none held out by that run.
"""

from __future__ import annotations

import argparse
import sys

import torch

from resattn.data import dataset_info
from resattn.engine.checkpoint import CheckpointError
from resattn.engine.common import AMP_DTYPES, resolve_device
from resattn.engine.precision import resolve_amp
from resattn.engine.restore import load_model
from resattn.engine.teacher_targets import save_teacher_targets, teacher_probabilities, training_split


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", action="append", default=[], help="a teacher's weights (repeatable)")
    parser.add_argument("--model", action="append", default=[], help="a released teacher, e.g. "
                                                                     "attention56_cifar.fmnist (repeatable)")
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--output", required=True, help="the table to write (.safetensors)")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--amp", default="auto", choices=["auto", *AMP_DTYPES])
    args = parser.parse_args(argv)
    try:
        teachers = [load_model(checkpoint=c) for c in args.checkpoint]
        teachers += [load_model(model=m, pretrained=True) for m in args.model]
        if not teachers:
            raise ValueError("Give at least one --checkpoint or --model")
        info = dataset_info(args.dataset)
        for name, lm in zip(args.checkpoint + args.model, teachers, strict=True):
            classes = lm.model.get_classifier().out_features
            if classes != info["num_classes"]:
                raise ValueError(f"{name} predicts {classes} classes; {args.dataset} has {info['num_classes']}")
        device = resolve_device(args.device)
        data = training_split(args.dataset, args.data_dir)
        probs = teacher_probabilities([lm.model for lm in teachers], data, args.batch_size, args.workers, device,
                                      AMP_DTYPES[resolve_amp(args.amp, device)])
        path = save_teacher_targets(args.output, probs, args.dataset, args.checkpoint + args.model)
    except (CheckpointError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    labels = torch.as_tensor(data.targets)
    agree = (probs.argmax(dim=1) == labels).float().mean().item() * 100
    print(f"wrote {path}: {tuple(probs.shape)} probabilities from {len(teachers)} teacher(s); their mean agrees with "
          f"the labels on {agree:.2f}% of the training images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
