"""Write the first N images of a dataset split as PNG files (inputs for `resattn visualize` / `predict`).

python scripts/export_samples.py --dataset fashion_mnist --split test --count 6 --output docs/figures/samples
"""

import argparse
from pathlib import Path

from PIL import Image

from resattn.data import create_dataset, dataset_info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--split", default="test")
    parser.add_argument("--count", type=int, default=6)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    data = create_dataset(args.dataset, split=args.split)  # no transform: uint8 tensors (C, H, W)
    names = dataset_info(args.dataset)["class_names"]
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    for i in range(args.count):
        image, label = data[i]
        array = image.permute(1, 2, 0).squeeze(-1).numpy()
        name = names[label].replace("/", "-").replace(" ", "_")
        Image.fromarray(array).save(out / f"{i:02d}_{name}.png")
    print(f"wrote {args.count} images to {out}")


if __name__ == "__main__":
    main()
