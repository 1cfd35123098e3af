"""ONNX export with dynamic batch, height and width, checked in onnxruntime.

The exporter is ``torch.onnx.export(..., dynamo=True)``: it captures the network with ``torch.export`` and keeps
every size symbolic, so the soft-mask branch's bilinear up-sampling becomes an ONNX ``Resize`` whose ``sizes`` are
read from the reference tensor's ``Shape`` at run time. Images of any size the network accepts (see
``ResidualAttentionNet.min_input_size``) run in the exported model, not just the export size. The TorchScript
exporter is deprecated in PyTorch 2.9+ and traces the Python-side input checks as constants, so it is not used.

Height and width are passed as *named* ``Dim.DYNAMIC`` axes (plain strings): a ``torch.export.Dim`` with explicit
bounds makes the constraint solver try to solve the ceil-mode pooling's size guards symbolically, which it cannot.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = [
    "OnnxModel",
    "check_onnx",
    "check_inputs",
    "export_onnx",
    "load_onnx",
    "resolve_input_size",
]

_INSTALL_HINT = "pip install 'resattn[onnx]'"
#: Oldest opset the exporter can write for these networks.
MIN_OPSET = 18


def _require(module: str) -> Any:
    """Import an optional dependency, or raise an ImportError that says how to install it."""
    try:
        return __import__(module)
    except ImportError as err:
        raise ImportError(f"ONNX export needs the {module!r} package: {_INSTALL_HINT}") from err


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode (BN running statistics, no dropout) and restore its previous mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@contextlib.contextmanager
def quiet_shape_solver() -> Iterator[None]:
    """Silence torch.export's "Failed to reduce inequalities" warnings (with tracebacks) while exporting.

    The dimension-constraint solver cannot simplify the ceil-mode pooling's floor divisions, logs a traceback at
    WARNING level, then keeps the unsimplified guards, which is all the export needs: the noise says nothing wrong.
    """
    logger = logging.getLogger("torch.fx.experimental.symbolic_shapes")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def resolve_input_size(model: nn.Module, input_size: Sequence[int] | None = None) -> tuple[int, int, int]:
    """The ``(C, H, W)`` of an export: ``input_size`` if given, else the model's default config, checked.

    Raises:
        ValueError: for a malformed size, a channel count the model was not built for, or a side below the
            network's ``min_input_size``.
    """
    if input_size is None:
        cfg = getattr(model, "pretrained_cfg", None) or {}
        size = cfg.get("input_size", (3, 224, 224))
        input_size = (getattr(model, "in_chans", size[0]), size[1], size[2])
    if len(input_size) != 3 or not all(isinstance(s, int) and s > 0 for s in input_size):
        raise ValueError(f"input_size must be three positive integers (C, H, W), got {tuple(input_size)!r}")
    chans, height, width = input_size
    if hasattr(model, "check_input"):  # the model's own message: wrong channels or a side that is too small
        model.check_input(torch.empty(1, chans, height, width, device="meta"))
    return chans, height, width


def check_inputs(input_size: Sequence[int], batch_sizes: tuple[int, int] = (1, 3)) -> list[torch.Tensor]:
    """Two random inputs that exercise the dynamic axes: ``(b0, C, H, W)`` and ``(b1, C, H2, W2)``.

    ``H2 x W2`` is about 1.2x1.1 the export size, made odd and non-square: odd sides make the ceil-mode poolings
    and the align-corners interpolation hit their uneven cases, and non-square inputs catch swapped axes.
    """
    chans, height, width = input_size
    h2 = (height + height // 5) | 1  # larger than the export size, so never below the network's minimum
    w2 = (width + width // 10 + 2) | 1
    gen = torch.Generator().manual_seed(0)
    return [
        torch.randn(batch_sizes[0], chans, height, width, generator=gen),
        torch.randn(batch_sizes[1], chans, h2, w2, generator=gen),
    ]


def export_onnx(
    model: nn.Module,
    path: str | Path,
    input_size: Sequence[int] | None = None,
    opset: int | None = None,
    dynamic: bool = True,
    *,
    metadata: Mapping[str, str] | None = None,
    fold_bn: bool = False,
) -> Path:
    """Export ``model`` (in eval mode) to an ONNX file.

    Args:
        model: a resattn network (any ``nn.Module`` taking one NCHW tensor works).
        path: the ``.onnx`` file to write (parent folders are created).
        input_size: ``(C, H, W)`` of the example input; default: the model's ``pretrained_cfg`` size.
        opset: ONNX opset version, 18 or newer; None: the exporter's default.
        dynamic: True: the batch, height and width axes are symbolic (``batch``, ``height``, ``width``);
            False: the graph is fixed to ``(1, C, H, W)``.
        metadata: strings stored in the model's ``metadata_props`` (``resattn predict --onnx`` reads ``model``,
            ``dataset`` and ``class_names`` (a JSON list) from there).
        fold_bn: fold each BatchNorm that directly follows a convolution into it first
            (:func:`~resattn.export.fold.fold_batchnorm`); onnxruntime fuses those itself, so this mainly shrinks
            the graph for other runtimes.

    Returns:
        The path written.

    Raises:
        ValueError: for an input size the model cannot take or an opset below 18.
        ImportError: when ``onnx`` / ``onnxscript`` are missing.
    """
    _require("onnxscript")
    if opset is not None and opset < MIN_OPSET:
        # The exporter translates to opset 18 and cannot down-convert this graph (it would keep 18 silently).
        raise ValueError(f"opset {opset} is not supported: the torch.export-based ONNX exporter writes opset "
                         f"{MIN_OPSET} or newer")
    path = Path(path)
    chans, height, width = resolve_input_size(model, input_size)
    if fold_bn:
        from .fold import fold_batchnorm

        model = fold_batchnorm(model)
    with eval_mode(model), quiet_shape_solver():
        # Batch 2, not 1, in the example: torch.export specialises sizes 0 and 1 to constants.
        batch = 2 if dynamic else 1
        example = torch.randn(batch, chans, height, width, device=_device(model))
        dynamic_shapes = None
        if dynamic:
            # min=1: a Dim.DYNAMIC batch traced at 2 would be declared >= 2.
            dynamic_shapes = ({0: torch.export.Dim("batch", min=1), 2: "height", 3: "width"},)
        output_name = "logits" if getattr(model, "num_classes", 1) else "features"
        program = torch.onnx.export(
            model,
            (example,),
            dynamo=True,
            dynamic_shapes=dynamic_shapes,
            input_names=["input"],
            output_names=[output_name],
            opset_version=opset,
            verbose=False,
        )
    from .. import __version__

    props = {"resattn_version": __version__, "input_size": json.dumps([chans, height, width])}
    props.update({str(k): str(v) for k, v in (metadata or {}).items()})
    program.model.metadata_props.update(props)
    path.parent.mkdir(parents=True, exist_ok=True)
    # None: one self-contained file unless the weights pass protobuf's 2 GB limit (then a .data file beside it).
    program.save(path, external_data=None)
    return path


def _ort_errors() -> tuple[type[Exception], ...]:
    """onnxruntime's own exception types: pybind classes that derive from Exception directly, not RuntimeError."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    names = ("Fail", "InvalidArgument", "InvalidGraph", "InvalidProtobuf", "NoSuchFile", "NotImplemented",
             "RuntimeException")
    return tuple(getattr(state, name) for name in names if hasattr(state, name))


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _session(path: str | Path) -> Any:
    ort = _require("onnxruntime")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ONNX model {path} does not exist")
    try:
        return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except _ort_errors() as err:
        raise ValueError(f"Cannot load ONNX model {path}: {_one_line(err)}") from err


@dataclass
class OnnxModel:
    """An onnxruntime session (CPU) of an exported network plus its resattn metadata; call it like the model."""

    path: Path
    session: Any
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def input_name(self) -> str:
        return self.session.get_inputs()[0].name

    @property
    def in_chans(self) -> int:
        chans = self.session.get_inputs()[0].shape[1]
        return chans if isinstance(chans, int) else 3

    @property
    def name(self) -> str:
        return self.metadata.get("model", self.path.stem)

    @property
    def dataset(self) -> str | None:
        return self.metadata.get("dataset") or None

    @property
    def class_names(self) -> list[str]:
        return list(json.loads(self.metadata.get("class_names", "[]")))

    @property
    def input_size(self) -> tuple[int, int, int] | None:
        size = self.metadata.get("input_size")
        return tuple(json.loads(size)) if size else None

    @property
    def fixed_size(self) -> tuple[int, int] | None:
        """``(H, W)`` of a graph exported with static shapes; None when height and width are dynamic."""
        height, width = self.session.get_inputs()[0].shape[2:]
        return (height, width) if isinstance(height, int) and isinstance(width, int) else None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Run the session on an NCHW tensor (copied to CPU float32); returns the first output as a tensor.

        Raises:
            ValueError: when onnxruntime rejects the input (e.g. wrong channels or, for a static graph, size).
        """
        x = x.detach().to("cpu", torch.float32).contiguous()
        try:
            out = self.session.run(None, {self.input_name: x.numpy()})[0]
        except _ort_errors() as err:
            raise ValueError(f"{self.path} cannot run on an input of shape {tuple(x.shape)}: {_one_line(err)}") from err
        return torch.from_numpy(out)


def load_onnx(path: str | Path) -> OnnxModel:
    """Open an ONNX file in onnxruntime (CPUExecutionProvider) with its ``metadata_props``.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if onnxruntime cannot load it (not an ONNX file, truncated, unsupported operators).
    """
    session = _session(path)
    metadata = dict(session.get_modelmeta().custom_metadata_map)
    return OnnxModel(Path(path), session, metadata)


def check_onnx(path: str | Path, model: nn.Module, inputs: Sequence[torch.Tensor]) -> float:
    """Run the ONNX file in onnxruntime and ``model`` in PyTorch (eval mode) on each input.

    Args:
        path: the exported ``.onnx`` file.
        model: the PyTorch model it was exported from.
        inputs: NCHW tensors; use several batch sizes and resolutions to exercise the dynamic axes.

    Returns:
        The largest absolute difference between the two outputs over all inputs (relative to the output's scale:
        :func:`resattn.export.parity.compare_outputs`).
    """
    from .parity import compare_outputs

    return compare_outputs(model, load_onnx(path), inputs).max_abs_diff
