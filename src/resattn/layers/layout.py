"""Memory format chosen for the device: channels_last on the CPU, where PyTorch's kernels for it are faster.

Measured on 2 CPU cores (docs/performance.md): NCHW max-pooling and bilinear upsampling are several times slower
than channels_last (``benchmarks/mask_ops.py``), and Attention-56 in fp32 runs about 1.2x faster with a
channels_last input. Values never change, only strides. GPUs keep their layout, and so do graphs being exported or
compiled: the compilers choose layouts themselves, and a layout change would add shape guards that narrow an
exported program's dynamic height and width.
"""

from __future__ import annotations

import torch


def prefer_channels_last(x: torch.Tensor) -> torch.Tensor:
    """``x`` in channels_last on the CPU in eager mode; unchanged otherwise (a no-op if it already is)."""
    if x.device.type != "cpu" or x.ndim != 4 or torch.compiler.is_compiling() or torch.compiler.is_exporting():
        return x
    return x.contiguous(memory_format=torch.channels_last)
