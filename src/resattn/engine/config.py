"""Training configuration: one dataclass, filled from defaults < YAML recipe (``-c``) < command-line flags.

Each field is a flag of ``resattn train`` and a key of a recipe (``batch-size`` or ``batch_size``): its type, default,
help, choices and ``--help`` group are declared here, once, and ``cli/train.py`` builds its parser from them. Unknown
keys are an error, not a silent no-op.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .precision import AMP_CHOICES

# --help groups, in the order they are listed
MODEL = "model"
DATA = "data"
FOLDERS = "image folders (--dataset folder --data-dir DIR: DIR/train/<class>/* or DIR/<class>/*)"
FINETUNE = "fine-tuning (see configs/finetune.yaml)"
OPTIMISATION = "optimisation"
EXECUTION = "execution"
RUN_FOLDER = "run folder"


def count_or_fraction(value: str | float) -> int | float:
    """``--val-split``: a number of images (``5000``, also written ``5000.0``; ``0`` for none) or a fraction in (0, 1)
    (``0.1``)."""
    number = float(value)
    return int(number) if number.is_integer() and (number >= 1 or number == 0) else number


def option(default: Any, group: str, help: str, *, factory: Any = None, **argparse_kwargs: Any) -> Any:
    """A field that is also a flag: ``help`` and ``group`` for ``--help``; ``argparse_kwargs`` (``choices``,
    ``metavar``, ``short``, ``parse``) where the type alone does not say it."""
    metadata = dict(group=group, help=help, **argparse_kwargs)
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass
class TrainConfig:
    model: str = option("attention56_cifar", MODEL, "model name; `resattn list` prints them")
    model_kwargs: dict[str, Any] = option(None, MODEL, "model arguments as YAML, e.g. '{mask_act: spatial}'",
                                          factory=dict)
    drop_rate: float = option(0.0, MODEL, "dropout rate before the classifier")
    grad_checkpointing: bool = option(False, MODEL, "recompute activations in the backward pass, for less memory")

    dataset: str = option("fashion_mnist", DATA, "fashion_mnist | cifar10 | cifar100 | imagenet | folder | fake")
    data_dir: str | None = option(None, DATA, "dataset root (Fashion-MNIST: $RESATTN_DATA or the Debian package's "
                                              "files)")
    download: bool = option(False, DATA, "download Fashion-MNIST or CIFAR with torchvision when not found locally")
    val_split: int | float = option(5000, DATA, "validation images carved (seeded) from train: a number of images, "
                                                "or a fraction below 1; 0 for none (final weights kept)",
                                    parse=count_or_fraction)
    img_size: int | None = option(None, DATA, "training image size (default: the dataset's)")
    label_noise: float = option(0.0, DATA, "training-label noise rate 1 - r (paper Table 5)")
    workers: int = option(0, DATA, "data loader processes")
    augment: bool = option(True, DATA, "augment the training images (--no-augment: the eval transform, for "
                                       "deterministic runs and tests)")
    random_erasing: float = option(0.0, DATA, "probability of erasing a random rectangle of each training image "
                                              "(Fashion-MNIST and CIFAR presets; Zhong et al.)")
    # Image folders: None = chosen from the images (and the source weights' normalisation); a run writes back what
    # it used, so config.yaml and its checkpoints say how to prepare images for prediction.
    in_chans: int | None = option(None, FOLDERS, "1 = grayscale, 3 = colour (default: detected)", choices=[1, 3])
    preset: str | None = option(None, FOLDERS, "small = CIFAR-style, large = ImageNet-style (default: from the "
                                               "images' size)", choices=["small", "large"])
    mean: list[float] | None = option(None, FOLDERS, "per-channel normalisation mean (default: the source weights' "
                                                     "or ImageNet's)")
    std: list[float] | None = option(None, FOLDERS, "per-channel normalisation std (default: as --mean)")
    skip_bad_images: bool = option(False, FOLDERS, "leave unreadable files out (default: list them and stop)")

    pretrained: str | None = option(None, FINETUNE, "start from released weights, e.g. attention56_cifar.fmnist",
                                    metavar="TAG")
    initial_checkpoint: str | None = option(None, FINETUNE, "start from a run's best.pt or best.safetensors",
                                            metavar="PATH")

    # Iteration-based, as in the paper. The defaults are the no-argument run: an attention network on Fashion-MNIST
    # in about 12 minutes on 2 CPU cores (docs/training.md); the paper's recipes are YAML files in configs/.
    epochs: float | None = option(5, OPTIMISATION, "length of the run in epochs (converted to iterations)")
    iters: int | None = option(None, OPTIMISATION, "length of the run in iterations (instead of --epochs)")
    batch_size: int = option(128, OPTIMISATION, "global mini-batch over all processes (the paper's 64 for CIFAR)",
                             short="-b")
    grad_accum: int = option(1, OPTIMISATION, "micro-batches per step on each process")
    lr: float = option(0.1, OPTIMISATION, "peak learning rate")
    momentum: float = option(0.9, OPTIMISATION, "SGD momentum")
    nesterov: bool = option(True, OPTIMISATION, "Nesterov momentum")
    weight_decay: float = option(5e-4, OPTIMISATION, "weight decay")
    # A deviation from the paper that keeps the masks' spatial structure alive in long schedules
    # (docs/attention_maps.md#what-flattens-the-masks).
    mask_weight_decay: float | None = option(None, OPTIMISATION, "weight decay of the soft-mask branches (default: "
                                                                 "--weight-decay, as in the paper)")
    mask_head_weight_decay: float | None = option(None, OPTIMISATION, "weight decay of the heads that close the "
                                                                      "soft-mask branches (default: their branch's)")
    sched: str = option("cosine", OPTIMISATION, "learning rate schedule",
                        choices=["multistep", "cosine", "constant"])
    milestones: list[float] = option(None, OPTIMISATION, "iterations of the LR drops (or fractions of the run if "
                                                         "all < 1)", factory=list)
    lr_gamma: float = option(0.1, OPTIMISATION, "LR factor at each milestone")
    warmup_iters: int = option(200, OPTIMISATION, "iterations of linear warm-up")
    label_smoothing: float = option(0.0, OPTIMISATION, "label smoothing of the cross-entropy")
    soft_targets: str | None = option(None, OPTIMISATION, "distil: a table of teacher predictions over the training "
                                                          "split (scripts/teacher_targets.py)", metavar="PATH")
    soft_target_weight: float = option(0.5, OPTIMISATION, "share of the teacher's probabilities in each training "
                                                           "target with --soft-targets; the label has the rest")
    ema_decay: float = option(0.0, OPTIMISATION, "decay of an exponential moving average of the weights; 0 keeps none")
    swa_epochs: int = option(0, OPTIMISATION, "stochastic weight averaging: the run's weights are the mean of the "
                                              "weights at the end of each of its last N epochs, BatchNorm statistics "
                                              "recomputed on the training images; 0 keeps none")

    device: str = option("auto", EXECUTION, "auto | cpu | cuda | cuda:N")
    amp: str = option("auto", EXECUTION, "mixed precision: auto is bf16 where the device computes in bf16, else "
                                         "none (fp32); fp16: CUDA only, with a GradScaler", choices=AMP_CHOICES)
    channels_last: bool = option(True, EXECUTION, "channels-last memory format")
    compile: bool = option(False, EXECUTION, "torch.compile the model")
    seed: int = option(0, EXECUTION, "seed of the initialisation, the validation split and the sample order")

    output: str | None = option(None, RUN_FOLDER, "run folder (default runs/<model>_<dataset>_<date-time>)")
    resume: str | None = option(None, RUN_FOLDER, "auto (latest checkpoint in --output) or a checkpoint file")
    eval_interval: int | None = option(None, RUN_FOLDER, "iterations between evaluations (default: one epoch)")
    save_interval: int | None = option(None, RUN_FOLDER, "iterations between checkpoints (default: at every "
                                                         "evaluation)")
    log_interval: int = option(50, RUN_FOLDER, "iterations between log lines")
    progress: str = option("auto", RUN_FOLDER, "auto = a bar on a terminal, else log lines",
                           choices=["auto", "bar", "log", "none"])
    test: bool = option(True, RUN_FOLDER, "evaluate the test split once at the end (never used for selection)")

    @staticmethod
    def field_names() -> list[str]:
        return [f.name for f in dataclasses.fields(TrainConfig)]

    def update(self, values: dict[str, Any], source: str) -> TrainConfig:
        names = self.field_names()
        for key, value in values.items():
            name = key.replace("-", "_")
            if name not in names:
                close = difflib.get_close_matches(name, names, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(f"Unknown key {key!r} in {source}{hint}")
            setattr(self, name, value)
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ValueError(f"Config file {path} is not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ValueError(f"Config file {path} must hold a mapping of flags to values, got {type(data).__name__}")
    return data


def save_yaml(config: TrainConfig, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
