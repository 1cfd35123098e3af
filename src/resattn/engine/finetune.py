"""Start a run from trained weights: a released tag (``--pretrained``) or a run's ``best.pt`` / ``best.safetensors``
(``--initial-checkpoint``).

Every tensor whose name and shape fit is loaded. Two parts may differ from the source, as in timm's fine-tuning:

* the classifier (``pretrained_cfg["classifier"]``) is re-initialised when the class count differs, or when both
  sides name their classes and the names differ (a head trained for other classes is no head start);
* the stem convolution (``pretrained_cfg["first_conv"]``) is adapted when the input channels differ: from RGB with
  timm's ``adapt_input_conv`` (summed for grayscale, repeated and rescaled for more channels); from one channel by
  repeating it and dividing by the new count, so that a grey image (equal channels) gives the original response.

Anything else that does not fit is an error naming the tensors, never a silent partial load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..data.input_spec import InputSpec
from ..models.factory import check_model_name, create_model
from .checkpoint import CheckpointError, checkpoint_weights, load_checkpoint, load_safetensors
from .recorded_input import config_beside, recorded_spec, spec_from_pretrained_cfg

__all__ = ["FinetuneReport", "WeightSource", "adapt_stem_weight", "apply_initial_weights", "init_from_source",
           "read_source", "source_of"]

# Constructor arguments that follow the new task, not the source network.
TASK_ARGS = ("num_classes", "in_chans", "drop_rate")


@dataclass
class WeightSource:
    """Trained weights to start from, and what is known of the network and data they came from."""

    label: str  # the tag or the file, for messages
    model_name: str | None  # architecture (None: a plain state dict; the run's --model is used)
    model_args: dict[str, Any]
    state: dict[str, torch.Tensor]
    class_names: list[str] = field(default_factory=list)
    spec: InputSpec | None = None  # how the source's training images were prepared


@dataclass
class FinetuneReport:
    loaded: list[str] = field(default_factory=list)
    reinitialised: list[str] = field(default_factory=list)
    adapted: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self, label: str) -> list[str]:
        groups = sorted({key.split(".", 1)[0] for key in self.loaded})
        out = [f"initial weights from {label}: loaded {len(self.loaded)} tensors ({', '.join(groups)})"]
        if self.reinitialised:
            out.append(f"  re-initialised {', '.join(self.reinitialised)}")
        if self.adapted:
            out.append(f"  adapted {', '.join(self.adapted)}")
        return out + [f"  {note}" for note in self.notes]


def _from_tag(tag: str) -> WeightSource:
    check_model_name(tag)
    if "." not in tag:
        raise ValueError(f"--pretrained takes a released tag such as attention56_cifar.fmnist, got {tag!r}; "
                         f"`resattn list --pretrained` prints them")
    try:
        net = create_model(tag, pretrained=True)
    except RuntimeError as err:  # timm: no weights under this tag
        raise ValueError(f"No released weights {tag!r} ({err}); `resattn list --pretrained` prints the tags") from err
    cfg = dict(net.pretrained_cfg)
    in_chans = int(net.in_chans)
    return WeightSource(tag, tag.split(".", 1)[0], dict(in_chans=in_chans, num_classes=int(net.num_classes)),
                        net.state_dict(), list(cfg.get("class_names") or cfg.get("label_names") or []),
                        spec_from_pretrained_cfg(cfg, in_chans))


def _from_file(path: Path) -> WeightSource:
    if not path.is_file():
        raise FileNotFoundError(f"--initial-checkpoint {path} does not exist")
    if path.suffix == ".safetensors":
        state, meta = load_safetensors(path)
        name, args = meta.get("model"), json.loads(meta.get("model_args", "{}"))
        classes = json.loads(meta.get("class_names", "[]"))
        config, dataset = config_beside(path), meta.get("dataset")
    else:
        ckpt = load_checkpoint(path)
        if "model_name" not in ckpt:
            raise CheckpointError(f"{path} is not a resattn training checkpoint (no model_name); give a run's "
                                  f"best.pt or best.safetensors")
        name, args = ckpt["model_name"], dict(ckpt.get("model_args") or {})
        classes, config, dataset = list(ckpt.get("class_names") or []), ckpt.get("config") or {}, ckpt.get("dataset")
        # The weights the run selected and exported to best.safetensors: the EMA ones when it kept an EMA.
        state = checkpoint_weights(ckpt, "ema" if ckpt.get("ema") else "model", path)
    in_chans = int(args.get("in_chans", 3))
    return WeightSource(str(path), name, args, state, classes, recorded_spec(dataset, config, in_chans))


def read_source(pretrained: str | None, initial_checkpoint: str | None) -> WeightSource | None:
    """The weights of ``--pretrained TAG`` or ``--initial-checkpoint PATH`` (None when neither is given)."""
    if pretrained and initial_checkpoint:
        raise ValueError("Give --pretrained or --initial-checkpoint, not both")
    if pretrained:
        return _from_tag(pretrained)
    if initial_checkpoint:
        return _from_file(Path(initial_checkpoint).expanduser())
    return None


def source_of(cfg: Any) -> WeightSource | None:
    """:func:`read_source` for a TrainConfig."""
    return read_source(cfg.pretrained, cfg.initial_checkpoint)


def adapt_stem_weight(weight: torch.Tensor, in_chans: int) -> torch.Tensor:
    """A stem convolution's weight ``(O, I, kh, kw)`` for ``in_chans`` input channels (see the module docstring)."""
    source_chans = weight.shape[1]
    if source_chans == in_chans:
        return weight
    if source_chans == 3:
        from timm.models import adapt_input_conv

        return adapt_input_conv(in_chans, weight)
    if source_chans == 1:
        return weight.repeat(1, in_chans, 1, 1) / in_chans
    if in_chans == 1:
        return weight.sum(dim=1, keepdim=True)
    raise CheckpointError(f"Cannot adapt a stem with {source_chans} input channels to {in_chans}")


def _classifier_reason(source: WeightSource, src_classes: int, num_classes: int, class_names: list[str]) -> str | None:
    if src_classes != num_classes:
        return f"{src_classes} -> {num_classes} classes"
    if source.class_names and class_names and list(source.class_names) != list(class_names):
        return f"same count ({src_classes}) but other class names"
    return None


def init_from_source(model: nn.Module, source: WeightSource, class_names: list[str]) -> FinetuneReport:
    """Loads ``source`` into ``model`` as the module docstring says and reports what happened to each tensor.

    Raises:
        CheckpointError: Tensors outside the classifier and the stem are missing, extra or of another shape.
    """
    cfg = getattr(model, "pretrained_cfg", {}) or {}
    head, stem = cfg.get("classifier", "head.fc"), cfg.get("first_conv", "stem.conv")
    target, src = model.state_dict(), source.state
    report, new_state = FinetuneReport(), dict(target)
    src_classes = src[f"{head}.weight"].shape[0] if f"{head}.weight" in src else -1
    num_classes = target[f"{head}.weight"].shape[0] if f"{head}.weight" in target else -1
    reason = _classifier_reason(source, src_classes, num_classes, class_names)
    missing, wrong = [], []
    for key, value in target.items():
        if key.startswith(f"{head}."):
            if reason is None and key in src and src[key].shape == value.shape:
                new_state[key] = src[key]
                report.loaded.append(key)
            else:
                report.reinitialised.append(key)
        elif key not in src:
            missing.append(key)
        elif src[key].shape == value.shape:
            new_state[key] = src[key]
            report.loaded.append(key)
        elif key == f"{stem}.weight" and src[key].shape[:1] + src[key].shape[2:] == value.shape[:1] + value.shape[2:]:
            new_state[key] = adapt_stem_weight(src[key].float(), value.shape[1]).to(value.dtype)
            report.adapted.append(f"{key} ({src[key].shape[1]} -> {value.shape[1]} input channels)")
        else:
            wrong.append(f"{key} {tuple(src[key].shape)} vs {tuple(value.shape)}")
    extra = [k for k in src if k not in target and not k.startswith(f"{head}.")]
    if missing or wrong or extra:
        parts = [f"{len(keys)} {what} (e.g. {', '.join(keys[:3])})" for what, keys in
                 (("missing tensors", missing), ("tensors of another shape", wrong), ("unexpected tensors", extra))
                 if keys]
        raise CheckpointError(f"{source.label} does not fit this {type(model).__name__}: {'; '.join(parts)}. It is "
                              f"{source.model_name or 'a plain state dict'} with {source.model_args}; fine-tune the "
                              f"same architecture and model options (--model, --model-kwargs)")
    if report.reinitialised:
        report.reinitialised = [f"{', '.join(report.reinitialised)} ({reason})"]
    model.load_state_dict(new_state)
    return report


def apply_initial_weights(model: nn.Module, source: WeightSource | None, class_names: list[str],
                          verbose: bool = True) -> FinetuneReport | None:
    """Loads the weights of ``--pretrained`` / ``--initial-checkpoint`` (:func:`source_of`) into a freshly built model
    (a no-op without them) and, if ``verbose``, prints what was loaded, re-initialised and adapted."""
    if source is None:
        return None
    report = init_from_source(model, source, class_names)
    if verbose:
        print("\n".join(report.lines(source.label)), flush=True)
    return report
