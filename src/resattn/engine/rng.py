"""Capture and restore the global random number generator states.

Exact resumption of a training run needs the RNG streams that drive data augmentation, dropout, stochastic
depth and sampling to continue where they stopped. :func:`get_rng_state` returns a dict that contains only
built-in Python containers, numbers, strings and tensors, so it can be stored inside a checkpoint that is later
read with ``torch.load(weights_only=True)``.

Only the *global* generators are covered: Python's :mod:`random`, NumPy's legacy ``np.random`` state, torch's
default CPU generator and torch's default generator on every visible CUDA device. Explicit generator objects
(``np.random.default_rng()``, ``torch.Generator()``) belong to their owners and must be checkpointed by them.

Under DDP every rank owns different RNG streams; a checkpoint written by rank 0 only holds rank 0's state, so a
trainer that wants bit-exact multi-rank resumption has to gather and store the state of every rank itself.
"""

from __future__ import annotations

import random
import warnings
from typing import Any

import numpy as np
import torch

__all__ = ["RNG_STATE_VERSION", "get_rng_state", "set_rng_state"]

#: Layout version of the dict returned by :func:`get_rng_state`.
RNG_STATE_VERSION = 1


def get_rng_state() -> dict[str, Any]:
    """Return the current state of all global random number generators.

    Returns:
        A dict with the keys ``"version"``, ``"python"``, ``"numpy"``, ``"torch"`` and, when CUDA is available,
        ``"cuda"`` (one state tensor per visible device). Every leaf is a ``str``, ``int``, ``float``, ``None``
        or a CPU tensor, so the dict survives ``torch.save`` / ``torch.load(weights_only=True)``.
    """
    py_version, py_internal, py_gauss_next = random.getstate()
    # NumPy's legacy state is a tuple holding an ndarray and NumPy scalars; neither is allowed by the
    # weights_only unpickler, so it is rewritten as plain Python values plus an int64 tensor.
    np_name, np_keys, np_pos, np_has_gauss, np_cached_gaussian = np.random.get_state(legacy=True)
    state: dict[str, Any] = {
        "version": RNG_STATE_VERSION,
        "python": {
            "version": int(py_version),
            "internal": [int(v) for v in py_internal],
            "gauss_next": None if py_gauss_next is None else float(py_gauss_next),
        },
        "numpy": {
            "bit_generator": str(np_name),
            "keys": torch.from_numpy(np.asarray(np_keys, dtype=np.int64).copy()),
            "pos": int(np_pos),
            "has_gauss": int(np_has_gauss),
            "cached_gaussian": float(np_cached_gaussian),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = [s.cpu() for s in torch.cuda.get_rng_state_all()]
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore random number generator states captured by :func:`get_rng_state`.

    Keys that are absent are skipped, so a partial dict restores only the generators it names. If the
    checkpoint holds CUDA states but CUDA is unavailable, or the device count differs, the CUDA part is
    restored as far as possible and a :class:`RuntimeWarning` is emitted.

    Args:
        state: A dict as returned by :func:`get_rng_state` (possibly after a ``torch.save``/``torch.load``
            round trip, with tensors on any device).

    Raises:
        ValueError: If ``state`` was written by a newer, unknown layout version.
        TypeError: If ``state`` is not a dict.
    """
    if not isinstance(state, dict):
        raise TypeError(f"RNG state must be a dict, got {type(state).__name__}")
    version = int(state.get("version", RNG_STATE_VERSION))
    if version > RNG_STATE_VERSION:
        raise ValueError(f"RNG state version {version} is newer than the supported version {RNG_STATE_VERSION}")

    if "python" in state:
        py = state["python"]
        random.setstate((int(py["version"]), tuple(int(v) for v in py["internal"]), py["gauss_next"]))

    if "numpy" in state:
        npy = state["numpy"]
        keys = npy["keys"]
        keys = keys.cpu().numpy() if isinstance(keys, torch.Tensor) else np.asarray(keys)
        np.random.set_state(
            (
                str(npy["bit_generator"]),
                keys.astype(np.uint32),
                int(npy["pos"]),
                int(npy["has_gauss"]),
                float(npy["cached_gaussian"]),
            )
        )

    if "torch" in state:
        # torch.set_rng_state only accepts a CPU ByteTensor; a map_location may have moved it elsewhere.
        torch.set_rng_state(state["torch"].cpu().to(torch.uint8))

    cuda_states = state.get("cuda")
    if cuda_states:
        if not torch.cuda.is_available():
            warnings.warn(
                "RNG state contains CUDA generator states but CUDA is not available; skipped",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        n_dev = torch.cuda.device_count()
        if len(cuda_states) != n_dev:
            warnings.warn(
                f"RNG state holds {len(cuda_states)} CUDA generator state(s) but {n_dev} device(s) are visible; "
                f"restoring the first {min(n_dev, len(cuda_states))}",
                RuntimeWarning,
                stacklevel=2,
            )
        for idx, dev_state in enumerate(cuda_states[:n_dev]):
            torch.cuda.set_rng_state(dev_state.cpu().to(torch.uint8), device=idx)
