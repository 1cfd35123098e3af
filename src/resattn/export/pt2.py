"""``torch.export`` programs (``.pt2``) with dynamic batch, height and width."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from .onnx import _device, eval_mode, quiet_shape_solver, resolve_input_size

__all__ = ["export_pt2", "load_pt2"]


def export_pt2(
    model: nn.Module,
    path: str | Path,
    input_size: Sequence[int] | None = None,
    dynamic: bool = True,
    *,
    fold_bn: bool = False,
) -> Path:
    """Capture ``model`` (in eval mode) with ``torch.export.export`` and write it with ``torch.export.save``.

    With ``dynamic`` the batch (from 1), height and width are symbolic. The program keeps the guards PyTorch
    derives while tracing: the network's ``check_input`` becomes a lower bound on height and width
    (``min_input_size``), and the align-corners up-sampling adds one that rejects sizes at which a soft mask's
    lowest map is 1x1 (31 to 62 pixels for the ImageNet nets); the ONNX export has no such guard.

    Args:
        model: a resattn network.
        path: the ``.pt2`` file to write (parent folders are created).
        input_size: ``(C, H, W)`` of the example input; default: the model's ``pretrained_cfg`` size.
        dynamic: symbolic batch / height / width (True) or a program fixed to ``(1, C, H, W)`` (False).
        fold_bn: fold each BatchNorm that directly follows a convolution into it first.

    Returns:
        The path written; ``load_pt2(path).module()`` is a callable ``nn.Module``.
    """
    path = Path(path)
    chans, height, width = resolve_input_size(model, input_size)
    if fold_bn:
        from .fold import fold_batchnorm

        model = fold_batchnorm(model)
    with eval_mode(model), quiet_shape_solver():
        batch = 2 if dynamic else 1  # sizes 0 and 1 would be specialised to constants
        example = torch.randn(batch, chans, height, width, device=_device(model))
        dynamic_shapes = None
        if dynamic:
            # Named bounded Dims for height / width send the ceil-mode pooling guards to a solver that cannot
            # handle them; Dim.DYNAMIC keeps them symbolic and still records the network's own lower bound.
            spatial = torch.export.Dim.DYNAMIC
            dynamic_shapes = ({0: torch.export.Dim("batch", min=1), 2: spatial, 3: spatial},)
        program = torch.export.export(model, (example,), dynamic_shapes=dynamic_shapes)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.export.save(program, path)
    return path


def load_pt2(path: str | Path) -> torch.export.ExportedProgram:
    """Read a program written by :func:`export_pt2` (``torch.export.load``).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Program {path} does not exist")
    return torch.export.load(path)
