"""Training checkpoints and weight files: crash-safe writes, and loads that never execute pickled code.

A checkpoint is a ``torch.save`` archive of tensors and built-in values, read back with
``torch.load(weights_only=True)``: a checkpoint from an untrusted source cannot run anything. Writes are atomic (a
temporary file in the same folder, fsync, rename), and ``last.pt`` keeps its predecessor as ``last.prev.pt``, so a
crash, a full disk or a killed job never leaves a run without a loadable checkpoint. The weights a run ships are
exported as ``.safetensors``.

Every failure to read is a :class:`CheckpointError` whose one-line message names the file and what is wrong with it.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import secrets
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import torch
from safetensors import safe_open
from safetensors.torch import save as safetensors_bytes

__all__ = [
    "CheckpointError",
    "checkpoint_weights",
    "export_safetensors",
    "load_checkpoint",
    "load_resume_checkpoint",
    "load_safetensors",
    "previous_path",
    "save_checkpoint",
]

#: Marker key that every checkpoint holds: it tells a resattn checkpoint apart from any other torch file.
FORMAT_KEY = "resattn_checkpoint"
FORMAT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint or weight file is missing, unreadable, unsafe or not in the expected format."""


def previous_path(path: str | os.PathLike[str]) -> Path:
    """Where ``save_checkpoint(keep_previous=True)`` keeps the file it replaces: ``last.pt`` -> ``last.prev.pt``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.prev{path.suffix}")


def _hidden_sibling(path: Path) -> Path:
    # In the same folder: the final os.replace must be a same-filesystem rename to be atomic.
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def _keep_as_previous(path: Path) -> None:
    """Make ``previous_path(path)`` hold what ``path`` holds now.

    A hard link leaves ``path`` in place until the new file replaces it, so there is no instant without it. Where
    links are unsupported the file is renamed; a crash right after leaves only ``last.prev.pt``, which resuming reads.
    """
    link = _hidden_sibling(path)
    try:
        os.link(path, link)
        os.replace(link, previous_path(path))
    except OSError:
        link.unlink(missing_ok=True)
        os.replace(path, previous_path(path))


def _fsync_dir(directory: Path) -> None:
    """Persist the rename where the platform allows it (Windows cannot open folders, some network mounts refuse)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _atomic_write(path: Path, write: Callable[[IO[bytes]], Any], keep_previous: bool = False) -> None:
    """Write ``path`` through a temporary file: on any failure, an interrupt included, ``path`` is untouched.

    ``open`` creates the file with the umask's permissions, as any other output gets.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _hidden_sibling(path)
    try:
        with open(tmp, "xb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if keep_previous and path.is_file():
            _keep_as_previous(path)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike[str], *, keep_previous: bool = False) -> Path:
    """Atomically write a training checkpoint; with ``keep_previous`` the replaced file stays as ``previous_path``.

    ``state`` holds tensors and built-in values only, so that ``torch.load(weights_only=True)`` reads it back. Under
    DDP only rank 0 writes: concurrent writers to one path would race on the rotation.

    Raises:
        CheckpointError: Writing failed; the file at ``path`` (and its previous one) is left as it was.
    """
    path = Path(path)
    payload = {FORMAT_KEY: FORMAT_VERSION, **state}
    try:
        _atomic_write(path, lambda f: torch.save(payload, f), keep_previous)
    except Exception as exc:
        raise CheckpointError(f"failed to write checkpoint {path}: {type(exc).__name__}: {exc}") from exc
    return path


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A training checkpoint written by :func:`save_checkpoint`, its tensors on the CPU.

    Raises:
        CheckpointError: The file is missing, empty, truncated, corrupted, holds Python objects that weights-only
            loading refuses, or is not a resattn checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint file not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        # The weights-only unpickler reports garbage bytes as refused content too: the zip check tells them apart.
        if not zipfile.is_zipfile(path):
            reason = "it is empty, truncated or not a PyTorch file (an interrupted write or copy leaves such a file)"
        elif isinstance(exc, pickle.UnpicklingError):
            found = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
            reason = (f"it holds Python objects that weights_only loading refuses to run"
                      f"{f' ({found.group(1)})' if found else ''}; load it only if you trust where it comes from")
        else:
            reason = f"it is corrupted ({type(exc).__name__}: {_first_line(str(exc))})"
        raise CheckpointError(f"cannot load checkpoint {path}: {reason}") from exc
    if not isinstance(state, dict) or FORMAT_KEY not in state:
        raise CheckpointError(f"{path} is not a resattn training checkpoint (no {FORMAT_KEY!r} key)")
    if state[FORMAT_KEY] != FORMAT_VERSION:
        raise CheckpointError(f"{path} has checkpoint format version {state[FORMAT_KEY]!r}; this resattn reads "
                              f"version {FORMAT_VERSION}")
    return state


def load_resume_checkpoint(run_dir: str | os.PathLike[str]) -> tuple[Path, dict[str, Any]] | None:
    """``--resume auto``: ``(path, state)`` of ``last.pt``, or of ``last.prev.pt`` when ``last.pt`` is missing or
    unreadable (a warning names it); None when the folder holds neither (a new run).

    Raises:
        CheckpointError: Both exist and neither loads: starting afresh would overwrite them.
    """
    last = Path(run_dir) / "last.pt"
    errors = []
    for path in (p for p in (last, previous_path(last)) if p.is_file()):
        try:
            return path, load_checkpoint(path)
        except CheckpointError as exc:
            errors.append(str(exc))
            logging.getLogger(__name__).warning("skipping the unreadable resume checkpoint %s: %s", path, exc)
    if errors:
        raise CheckpointError(f"no loadable checkpoint to resume in {run_dir}: {'; '.join(errors)}")
    return None


def _strip_wrapper_prefixes(weights: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Keys without DDP's ``module.`` and ``torch.compile``'s ``_orig_mod.`` in front (weights of a wrapped model)."""
    out = {}
    for key, value in weights.items():
        name = key
        while name.startswith(("module.", "_orig_mod.")):
            name = name.removeprefix("module.").removeprefix("_orig_mod.")
        out[name] = value
    return out


def checkpoint_weights(state: Mapping[str, Any], which: str, path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The ``"model"`` or ``"ema"`` weights of a loaded checkpoint (``path`` names it in errors).

    Raises:
        CheckpointError: The checkpoint holds no such weights (no EMA was kept).
    """
    weights = state.get(which)
    if not weights:
        raise CheckpointError(f"{path} holds no {which!r} weights")
    return _strip_wrapper_prefixes(weights)


def export_safetensors(state_dict: Mapping[str, torch.Tensor], path: str | os.PathLike[str],
                       metadata: dict[str, str] | None = None) -> Path:
    """Atomically write weights as ``.safetensors``, with string ``metadata`` in the header.

    Raises:
        CheckpointError: Writing failed; an existing file at ``path`` is left as it was.
    """
    # Own, contiguous CPU copies: safetensors refuses tensors that share storage (tied weights) or are views.
    tensors = {k: v.detach().cpu().clone(memory_format=torch.contiguous_format) for k, v in state_dict.items()}
    path = Path(path)
    try:
        _atomic_write(path, lambda f: f.write(safetensors_bytes(tensors, metadata)))
    except Exception as exc:
        raise CheckpointError(f"failed to write safetensors file {path}: {type(exc).__name__}: {exc}") from exc
    return path


def load_safetensors(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The weights (wrapper prefixes removed) and the header metadata of a ``.safetensors`` file.

    Raises:
        CheckpointError: The file is missing or not a readable safetensors file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"weights file not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            weights = {key: f.get_tensor(key) for key in f.keys()}  # noqa: SIM118 (safe_open is not a mapping)
            metadata = dict(f.metadata() or {})
    except Exception as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file: {_first_line(str(exc))}") from exc
    return _strip_wrapper_prefixes(weights), metadata
