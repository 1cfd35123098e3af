"""Write a copy of a weights file in which the head of every soft-mask branch starts afresh.

    python scripts/reinit_mask_heads.py WEIGHTS.safetensors OUT.safetensors [--model attention56_cifar] [--seed 0]

A mask head is ``bn1 -> ReLU -> conv1 -> bn2 -> ReLU -> conv2 -> sigmoid``. Once weight decay has shrunk ``conv1``
until its output varies less than ``bn2``'s epsilon, the head is stuck: the mask is one constant per channel and
``conv1`` gets almost no gradient (docs/attention_maps.md#what-flattens-the-masks). Training on without decay does not
bring it back, so ``conv1``, ``bn2`` (its affine parameters and running statistics) and ``conv2`` are replaced by a
freshly initialised model's, drawn with ``--seed``; every other tensor, ``bn1`` of the head included, is copied
unchanged. The output is a starting point for ``resattn train --initial-checkpoint``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import torch

from resattn.engine.checkpoint import CheckpointError, export_safetensors, load_safetensors
from resattn.models import create_model

RESTARTED = re.compile(r"\.mask\.head\.(conv1|bn2|conv2)\.")


def restart_mask_heads(weights: dict[str, torch.Tensor], model: str, seed: int) -> list[str]:
    """Replace, in place, the restarted tensors of ``weights`` by those of a fresh ``model``; returns their keys.

    Raises:
        ValueError: if ``weights`` is not a state dict of ``model`` or has no mask heads.
    """
    num_classes, in_chans = weights["head.fc.weight"].shape[0], weights["stem.conv.weight"].shape[1]
    torch.manual_seed(seed)
    fresh = create_model(model, num_classes=num_classes, in_chans=in_chans).state_dict()
    if fresh.keys() != weights.keys():
        missing, unexpected = sorted(fresh.keys() - weights.keys()), sorted(weights.keys() - fresh.keys())
        raise ValueError(f"not the weights of {model}: missing {missing[:3]}, unexpected {unexpected[:3]}")
    keys = [k for k in weights if RESTARTED.search(k)]
    if not keys:
        raise ValueError(f"{model} has no soft-mask heads to restart")
    for k in keys:
        weights[k] = fresh[k].clone()
    return keys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("weights", type=Path, help="a .safetensors file of model weights")
    parser.add_argument("output", type=Path, help="where to write the copy")
    parser.add_argument("--model", default="attention56_cifar", help="the architecture of the weights")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fresh initialisation")
    args = parser.parse_args(argv)
    if not args.weights.is_file():
        sys.exit(f"error: no weights file at {args.weights}")
    try:
        weights, metadata = load_safetensors(args.weights)
        keys = restart_mask_heads(weights, args.model, args.seed)
    except CheckpointError as err:
        sys.exit(f"error: {args.weights} is not a readable .safetensors file ({err})")
    except (KeyError, ValueError) as err:
        sys.exit(f"error: {args.weights}: {err}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    export_safetensors(weights, args.output, metadata)  # the header (model, class names) goes with the weights
    print(f"{args.output}: {len(keys)} of {len(weights)} tensors restarted (the mask heads' conv1, bn2 and conv2)")


if __name__ == "__main__":
    main()
