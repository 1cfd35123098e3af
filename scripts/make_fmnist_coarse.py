"""Build a small labelled image folder from Fashion-MNIST test images: 4 coarse classes, its own train/val/test split.

    python scripts/make_fmnist_coarse.py --output data/fmnist_coarse

writes ``OUTPUT/{train,val,test}/{tops,bottoms,footwear,bags}/fmnist_test_NNNNN.png`` (28x28 grayscale PNG; NNNNN is
the image's index in the Fashion-MNIST test split). The coarse classes regroup the ten garment classes:

    tops      T-shirt/top, Pullover, Coat, Shirt (drawn equally from the four)
    bottoms   Trouser
    footwear  Sandal, Sneaker, Ankle boot (drawn equally from the three)
    bags      Bag

Dresses are left out (neither top nor bottom). Only test images are used: the released ``attention56_cifar.fmnist``
never trained on them (it was evaluated on them), so fine-tuning it here starts from weights that have not seen these
images; its features were, however, learnt on the same ten garment classes, so this task measures an easy transfer.
The choice is seeded: the same arguments always write the same files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image

from resattn.data import FASHION_MNIST_CLASSES, load_fashion_mnist

COARSE: dict[str, tuple[str, ...]] = {
    "tops": ("T-shirt/top", "Pullover", "Coat", "Shirt"),
    "bottoms": ("Trouser",),
    "footwear": ("Sandal", "Sneaker", "Ankle boot"),
    "bags": ("Bag",),
}


def pick(labels: torch.Tensor, fine: tuple[str, ...], count: int, generator: torch.Generator) -> list[int]:
    """``count`` test indices of the ``fine`` classes, as equal a share of each as ``count`` allows."""
    chosen: list[int] = []
    for k, name in enumerate(fine):
        share = count // len(fine) + (k < count % len(fine))
        pool = (labels == FASHION_MNIST_CLASSES.index(name)).nonzero().flatten()
        chosen += pool[torch.randperm(len(pool), generator=generator)[:share]].tolist()
    order = torch.randperm(len(chosen), generator=generator).tolist()  # mix the fine classes across the splits
    return [chosen[i] for i in order]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="folder to create (must not exist yet, or be empty)")
    parser.add_argument("--train", type=int, default=100, help="training images per coarse class (default 100)")
    parser.add_argument("--val", type=int, default=25, help="validation images per coarse class (default 25)")
    parser.add_argument("--test", type=int, default=50, help="test images per coarse class (default 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", help="Fashion-MNIST IDX files (default: $RESATTN_DATA or the Debian package)")
    args = parser.parse_args()

    out = Path(args.output)
    if out.exists() and any(out.iterdir()):
        parser.error(f"{out} is not empty; choose a new --output")
    images, labels, source = load_fashion_mnist("test", args.data_dir)
    generator = torch.Generator().manual_seed(args.seed)
    sizes = dict(train=args.train, val=args.val, test=args.test)
    written = 0
    for coarse, fine in COARSE.items():
        indices = pick(labels, fine, sum(sizes.values()), generator)
        start = 0
        for split, n in sizes.items():
            folder = out / split / coarse
            folder.mkdir(parents=True, exist_ok=True)
            for index in indices[start:start + n]:
                Image.fromarray(images[index].numpy(), mode="L").save(folder / f"fmnist_test_{index:05d}.png")
            start += n
            written += n
    print(f"wrote {written} PNG files from {source} (Fashion-MNIST test split) to {out}: "
          f"{', '.join(f'{s} {n}' for s, n in sizes.items())} per class, classes {', '.join(COARSE)}")


if __name__ == "__main__":
    main()
