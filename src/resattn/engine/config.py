"""Training configuration: one dataclass, filled from defaults < YAML recipe (``-c``) < command-line flags.

YAML keys equal the CLI flags (``batch-size`` or ``batch_size``). Unknown keys are an error, not a silent no-op.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass
class TrainConfig:
    # model
    model: str = "attention56_cifar"
    model_kwargs: dict[str, Any] = field(default_factory=dict)  # e.g. {mask_act: spatial, attention_residual: false}
    drop_rate: float = 0.0
    grad_checkpointing: bool = False
    # data
    dataset: str = "fashion_mnist"
    data_dir: str | None = None
    download: bool = False
    val_split: float = 5000  # a fraction, or a number of images carved (seeded) from the training split
    img_size: int | None = None
    label_noise: float = 0.0
    workers: int = 0
    augment: bool = True  # False: train on the eval transform (deterministic runs, tests)
    random_erasing: float = 0.0  # probability of erasing a random rectangle (small-image presets; Zhong et al.)
    # Image folders: None = chosen from the images (and the source weights' normalisation); a run writes back what
    # it used, so config.yaml and its checkpoints say how to prepare images for prediction.
    in_chans: int | None = None  # 1 (grayscale) or 3
    preset: str | None = None  # small (CIFAR-style) | large (ImageNet-style)
    mean: list[float] | None = None
    std: list[float] | None = None
    skip_bad_images: bool = False  # leave unreadable files out instead of refusing to start
    # fine-tuning: start from a released tag (e.g. attention56_cifar.fmnist) or a run's best.pt / best.safetensors
    pretrained: str | None = None
    initial_checkpoint: str | None = None
    # optimisation (iteration-based, as in the paper)
    # The defaults are the no-argument run: an attention network on Fashion-MNIST in about 12 minutes on 2 CPU
    # cores (docs/training.md). The paper's recipes are YAML files in configs/.
    epochs: float | None = 5  # either epochs or iters; epochs are converted to iterations
    iters: int | None = None
    batch_size: int = 128  # GLOBAL mini-batch (the paper's 64 for CIFAR), split across ranks
    grad_accum: int = 1  # micro-batches per step on each rank
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    # Weight decay of the soft-mask branches' parameters; None: --weight-decay, as in the paper. A deviation that
    # keeps the masks' spatial structure alive in long schedules (docs/attention_maps.md#what-flattens-the-masks).
    mask_weight_decay: float | None = None
    sched: str = "cosine"  # multistep | cosine | constant
    milestones: list[float] = field(default_factory=list)  # iterations (or fractions of the run if all < 1)
    lr_gamma: float = 0.1
    warmup_iters: int = 200
    label_smoothing: float = 0.0
    ema_decay: float = 0.0  # 0 disables EMA
    # execution
    device: str = "auto"
    amp: str = "bf16"  # none | bf16 | fp16 (fp16: CUDA only, with a GradScaler)
    channels_last: bool = True
    compile: bool = False
    seed: int = 0
    # bookkeeping
    output: str | None = None  # None: runs/<model>_<dataset>_<date-time>
    resume: str | None = None  # None | "auto" | a checkpoint path
    eval_interval: int | None = None  # iterations; default: once per epoch
    save_interval: int | None = None  # iterations; default: at every evaluation
    log_interval: int = 50
    progress: str = "auto"  # auto (tqdm on a terminal) | bar | log | none
    test: bool = True  # evaluate the test split once at the end (never used for selection)

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
