"""The data of a run on an image folder: listed, decoded once, counted, preset chosen, split, and recorded.

What the run prints, in order: the layout found, every bad file by path (the run refuses unless
``--skip-bad-images``), grayscale or colour, the preset and why, the normalisation, and the number of images per
class in each split. The choices are written back into the config (``in_chans``, ``preset``, ``img_size``, ``mean``,
``std``), so ``config.yaml`` and every checkpoint record how images must be prepared for the trained network.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import Any

import torch

from ..data import NoisyLabels, apply_label_noise, train_val_split
from ..data.folder import LabelledImages
from ..data.folder_preset import choose_preset, sample_sizes
from ..data.folder_scan import FolderLayout, scan_folder
from ..data.image_check import ImageCheck, check_images
from ..data.input_spec import InputSpec, folder_spec, spec_transform
from .finetune import WeightSource

__all__ = ["BadImagesError", "build_folder_data", "folder_eval_data", "folder_preset_choice", "is_folder_dataset"]

MAX_LISTED = 200  # bad files printed one per line; beyond that only the count (a broken copy can hold thousands)


class BadImagesError(ValueError):
    """Files of the folder that cannot be decoded; the run refuses to start with them."""


def is_folder_dataset(name: str) -> bool:
    return name.strip().lower() == "folder"


def _is_main() -> bool:
    dist = torch.distributed
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def _say(message: str) -> None:
    if _is_main():
        print(message, flush=True)


def _scan(cfg: Any) -> FolderLayout:
    if not cfg.data_dir:
        raise ValueError("--dataset folder needs --data-dir DIR (DIR/train/<class>/* or DIR/<class>/*)")
    return scan_folder(cfg.data_dir)


def folder_preset_choice(cfg: Any, layout: FolderLayout | None = None):
    """The preset (``cfg.preset`` if given) and its default size and model, from the training images' sizes."""
    layout = layout or _scan(cfg)
    return choose_preset(sample_sizes([path for path, _ in layout.files["train"]]), cfg.preset)


def _drop_bad(layout: FolderLayout, cfg: Any, progress: bool,
              remedy: str = "repair or remove them, or pass --skip-bad-images to leave them out",
              ) -> dict[str, ImageCheck]:
    paths = [path for files in layout.files.values() for path, _ in files]
    checks = check_images(paths, workers=cfg.workers or None, progress=progress)
    bad = [c for c in checks if c.error]
    for c in bad[:MAX_LISTED]:
        _say(f"bad image: {c.path}: {c.error}")
    if len(bad) > MAX_LISTED:
        _say(f"... and {len(bad) - MAX_LISTED} more bad files")
    if bad and not cfg.skip_bad_images:
        raise BadImagesError(f"{len(bad)} of {len(paths)} files in {layout.root} cannot be read as images (listed "
                             f"above, e.g. {bad[0].path}); {remedy}")
    if bad:
        _say(f"--skip-bad-images: left out {len(bad)} of {len(paths)} files")
    good = {c.path: c for c in checks if not c.error}
    for split, files in layout.files.items():
        layout.files[split] = [(p, label) for p, label in files if p in good]
    empty = [name for name, n in zip(layout.classes, layout.count("train"), strict=True) if n == 0]
    if empty:
        raise ValueError(f"No readable training image left in class(es): {', '.join(empty)}")
    return good


def _in_chans(cfg: Any, layout: FolderLayout, good: dict[str, ImageCheck]) -> int:
    if cfg.in_chans:
        if cfg.in_chans not in (1, 3):
            raise ValueError(f"--in-chans must be 1 (grayscale) or 3 (colour), got {cfg.in_chans}")
        _say(f"in_chans {cfg.in_chans} (given)")
        return int(cfg.in_chans)
    gray = all(good[p].grayscale for p, _ in layout.files["train"])
    _say("all training images are grayscale: in_chans 1 (--in-chans 3 to train on RGB)" if gray else
         "colour images: in_chans 3 (--in-chans 1 to train on grayscale)")
    return 1 if gray else 3


def _spec(cfg: Any, layout: FolderLayout, in_chans: int, source: WeightSource | None) -> InputSpec:
    choice = folder_preset_choice(cfg, layout)
    img_size = cfg.img_size or choice.img_size
    given = f" (--img-size: {img_size}x{img_size} instead)" if cfg.img_size else ""
    _say(f"preset {choice.preset}: {choice.reason}{given}; model {cfg.model}")
    if cfg.mean or cfg.std:
        mean, std, origin = cfg.mean, cfg.std, "given"
    elif source is not None and source.spec is not None:
        mean, std, origin = source.spec.mean, source.spec.std, f"the normalisation {source.label} was trained with"
    else:
        mean, std, origin = None, None, "ImageNet statistics"
    spec = folder_spec(choice.preset, in_chans, img_size, mean, std)
    _say(f"input: {spec.describe()} ({origin})")
    return spec


def _count_line(name: str, width: int, counts: list[str]) -> str:
    return f"  {name:<{width}}  " + "  ".join(f"{c:>7}" for c in counts)


def _print_counts(classes: list[str], splits: dict[str, Any]) -> None:
    width = max(len(c) for c in classes + ["class"])
    per_split = {s: torch.bincount(d.targets, minlength=len(classes)).tolist()
                 for s, d in splits.items() if d is not None}
    _say("images per class:")
    _say(_count_line("class", width, list(per_split)))
    for i, name in enumerate(classes):
        _say(_count_line(name, width, [str(per_split[s][i]) for s in per_split]))
    _say(_count_line("total", width, [str(sum(v)) for v in per_split.values()]))


def _image_mode(spec: InputSpec) -> str:
    return "L" if spec.in_chans == 1 else "RGB"


def _info(spec: InputSpec, classes: list[str]) -> dict[str, Any]:
    """What ``dataset_info`` says of a built-in dataset, for an image folder prepared as ``spec``."""
    return dict(num_classes=len(classes), in_chans=spec.in_chans, image_size=spec.img_size, mean=spec.mean,
                std=spec.std, class_names=list(classes), transform_preset=spec.preset, splits=None)


def _train_val(layout: FolderLayout, mode: str, val_split: int | float, seed: int, train_tf, eval_tf):
    """A folder run's training and validation images: train/ and val/ where val/ exists, else a seeded split of
    train/ (as for the built-in datasets). Training and ``validate --split val`` both take them from here."""
    files, classes = layout.files, layout.classes
    if files.get("val"):
        return (LabelledImages(files["train"], classes, mode, train_tf),
                LabelledImages(files["val"], classes, mode, eval_tf))
    full = LabelledImages(files["train"], classes, mode)
    return train_val_split(full, val_split, seed, train_transform=train_tf, val_transform=eval_tf)


def folder_eval_data(config: dict[str, Any], data_dir: str | None, split: str, class_names: list[str],
                     img_size: int | None = None) -> tuple[dict[str, Any], Any]:
    """The info and the eval-transformed ``split`` of the image folder a run trained on, prepared as the run
    recorded (preset, channels, size, normalisation): "val" is the run's validation images (its val/ folder, or
    the same seeded part of train/ with the same unreadable files left out), "train" and "test" their folders.

    Raises:
        ValueError: The checkpoint holds no run config, the folder's classes differ from the run's, or the split
            has no folder; each message says which.
    """
    if not config.get("preset"):
        raise ValueError("This checkpoint does not record how its image folder was prepared (a training "
                         "checkpoint or a run folder's best.safetensors beside its config.yaml has it)")
    cfg = SimpleNamespace(data_dir=data_dir or config.get("data_dir"), workers=config.get("workers"),
                          skip_bad_images=bool(config.get("skip_bad_images")))
    layout = _scan(cfg)
    if class_names and layout.classes != list(class_names):
        raise ValueError(f"The classes of {layout.root} ({', '.join(layout.classes)}) are not the ones the model "
                         f"was trained on ({', '.join(class_names)})")
    # the run refused such files unless it left them out, so finding them here means the folder changed since
    _drop_bad(layout, cfg, progress=False, remedy="the run trained without them, so the folder changed since: repair "
                                                  "or remove them")
    spec = folder_spec(config["preset"], int(config["in_chans"]), int(img_size or config["img_size"]),
                       config.get("mean"), config.get("std"))
    eval_tf, mode = spec_transform(spec, train=False), _image_mode(spec)
    if split == "val":
        _, data = _train_val(layout, mode, config["val_split"], config["seed"], eval_tf, eval_tf)
    elif layout.files.get(split):
        data = LabelledImages(layout.files[split], layout.classes, mode, eval_tf)
    else:
        raise ValueError(f"{layout.root} has no {split}/ folder of images (it has: {', '.join(layout.files)})")
    return _info(spec, layout.classes), data


def build_folder_data(cfg: Any, source: WeightSource | None) -> dict[str, Any]:
    """What ``build_data`` returns (info, train, val, test, realised_noise) for ``--dataset folder``; without a
    ``--mean`` / ``--std``, the images are normalised as the fine-tuning ``source``'s were.

    Raises:
        BadImagesError: Unreadable files without ``--skip-bad-images``.
        ValueError / FileNotFoundError: A missing folder, a wrong layout, an empty class; each message says which.
    """
    layout = _scan(cfg)
    _say(f"image folder {layout.root}: {layout.kind} layout, {len(layout.classes)} classes, splits "
         f"{', '.join(f'{s}/' for s in layout.files) if layout.kind == 'splits' else '(none: all train)'}")
    if layout.ignored:
        _say(f"ignored (not in a class folder): {', '.join(layout.ignored[:5])}"
             + (f" and {len(layout.ignored) - 5} more" if len(layout.ignored) > 5 else ""))
    progress = _is_main() and (cfg.progress == "bar" or (cfg.progress == "auto" and sys.stderr.isatty()))
    good = _drop_bad(layout, cfg, progress)
    spec = _spec(cfg, layout, _in_chans(cfg, layout, good), source)
    # Recorded in config.yaml and in every checkpoint's config: prediction prepares images from these.
    cfg.preset = "small" if spec.small else "large"
    cfg.in_chans, cfg.img_size, cfg.mean, cfg.std = spec.in_chans, spec.img_size, list(spec.mean), list(spec.std)

    eval_tf = spec_transform(spec, train=False)
    train_tf = spec_transform(spec, train=True, random_erasing=cfg.random_erasing) if cfg.augment else eval_tf
    mode = _image_mode(spec)
    files, classes = layout.files, layout.classes
    train_set, val_set = _train_val(layout, mode, cfg.val_split, cfg.seed, train_tf, eval_tf)
    test_set = LabelledImages(files["test"], classes, mode, eval_tf) if files.get("test") else None
    _print_counts(classes, dict(train=train_set, val=val_set, test=test_set))
    if test_set is None and cfg.test:
        _say("no test/ folder: the run ends with its best validation accuracy, without a test evaluation")
        cfg.test = False  # the trainer evaluates a test split only when the config asks for one
    realised_noise = 0.0
    if cfg.label_noise:
        noisy, realised_noise = apply_label_noise(train_set.targets, cfg.label_noise, len(classes), cfg.seed)
        train_set = NoisyLabels(train_set, noisy)
    return dict(info=_info(spec, classes), train=train_set, val=val_set, test=test_set, realised_noise=realised_noise)
