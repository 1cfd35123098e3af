"""What happens to an input before the stem: the size check, and the memory format on the CPU.

Both functions are leaves for ``torch.fx`` (``torch.fx.wrap`` in ``residual_attention.py``): a symbolically traced
network, or a feature extractor built from it, calls them as they are instead of tracing their branches on sizes
and devices, which symbolic values cannot decide.
"""

from __future__ import annotations

import torch


def check_input_size(x: torch.Tensor, in_chans: int, min_size: int) -> None:
    """Raise a ValueError naming the problem for an input the network cannot take (TorchScript-compatible)."""
    if x.dim() != 4:
        raise ValueError(f"Expected a 4-D input (N, C, H, W), got {x.dim()} dimensions: shape {list(x.shape)}")
    if x.shape[1] != in_chans:
        raise ValueError(
            f"Input has {x.shape[1]} channels but the model was built with in_chans={in_chans}; "
            f"create it with in_chans={x.shape[1]} or convert the images"
        )
    if x.shape[2] < min_size or x.shape[3] < min_size:
        raise ValueError(
            f"Input size {x.shape[2]}x{x.shape[3]} is too small: the soft-mask branches of this network need at "
            f"least {min_size}x{min_size} pixels"
        )


def cpu_channels_last(x: torch.Tensor) -> torch.Tensor:
    """``x`` in channels_last in eager CPU mode, else unchanged.

    PyTorch's CPU max-pooling and bilinear interpolation are several times faster on channels_last tensors
    (``benchmarks/mask_ops.py``), and convolutions keep the format of their input, so one conversion here puts the
    whole network in it (``benchmarks/fast_paths_ab.py`` times the network with and without it). The values are
    unchanged. GPUs keep their layout, and so do compiled, exported and scripted graphs, whose compilers choose
    layouts themselves.
    """
    if not torch.jit.is_scripting():
        if x.device.type == "cpu" and not torch.compiler.is_compiling():
            x = x.contiguous(memory_format=torch.channels_last)
    return x
