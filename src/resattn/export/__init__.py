"""Deployment exports: ONNX (checked in onnxruntime), ``torch.export`` programs, batch-norm folding and frozen
``torch.compile`` for inference.

``onnx`` / ``onnxruntime`` / ``onnxscript`` are optional (``pip install 'resattn[onnx]'``); they are imported only
when an ONNX function runs.
"""

from .fold import fold_batchnorm
from .frozen import FrozenModule, compile_frozen
from .onnx import OnnxModel, check_inputs, check_onnx, export_onnx, load_onnx, resolve_input_size
from .pt2 import export_pt2, load_pt2

__all__ = [
    "FrozenModule",
    "OnnxModel",
    "check_inputs",
    "check_onnx",
    "compile_frozen",
    "export_onnx",
    "export_pt2",
    "fold_batchnorm",
    "load_onnx",
    "load_pt2",
    "resolve_input_size",
]
