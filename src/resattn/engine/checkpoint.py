"""Crash-safe training checkpoints and weight files.

Training checkpoints are plain ``torch.save`` archives that must load with ``torch.load(weights_only=True)``:
loading never executes pickled code, so a checkpoint from an untrusted source cannot run anything. To keep that
promise :func:`save_checkpoint` refuses to write objects the restricted unpickler would reject, instead of
producing a file that only fails at resume time.

Writes are atomic (temporary file in the same directory, ``fsync``, ``os.replace``) and can keep the previous
checkpoint as ``<stem>.prev<suffix>``, so a crash, a full disk or a killed job never leaves a run without a
loadable checkpoint. :func:`load_resume_checkpoint` implements ``--resume auto`` on top of that layout.

Inference weights are exported as ``.safetensors`` (:func:`export_safetensors`); :func:`load_weights` reads those,
resattn training checkpoints and plain state dicts alike.
"""

from __future__ import annotations

import collections
import logging
import os
import pickle
import re
import secrets
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import torch
from safetensors.torch import load_file as _st_load_file
from safetensors.torch import save_file as _st_save_file

__all__ = [
    "CHECKPOINT_SUFFIXES",
    "FORMAT_KEY",
    "FORMAT_VERSION",
    "WRAPPER_PREFIXES",
    "CheckpointError",
    "export_safetensors",
    "find_resume_checkpoint",
    "load_checkpoint",
    "load_resume_checkpoint",
    "load_weights",
    "previous_checkpoint_path",
    "save_checkpoint",
    "strip_state_dict_prefixes",
    "validate_checkpoint_state",
]

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

#: Marker key that :func:`save_checkpoint` adds and :func:`load_checkpoint` requires.
FORMAT_KEY = "resattn_checkpoint"
#: Current checkpoint layout version stored under :data:`FORMAT_KEY`.
FORMAT_VERSION = 1
#: File suffixes that :func:`find_resume_checkpoint` treats as training checkpoints.
CHECKPOINT_SUFFIXES: tuple[str, ...] = (".pt", ".pth", ".ckpt")
#: Prefixes removed by :func:`strip_state_dict_prefixes`: DDP's wrapper and ``torch.compile``'s wrapper.
WRAPPER_PREFIXES: tuple[str, ...] = ("module.", "_orig_mod.")


class CheckpointError(RuntimeError):
    """A checkpoint or weight file is missing, unreadable, unsafe or not in the expected format."""


# ---------------------------------------------------------------------------------------------------------------
# Validation: only what torch.load(weights_only=True) accepts
# ---------------------------------------------------------------------------------------------------------------

# Leaves the weights_only unpickler reconstructs without any allow-listing. Exact type checks are used on purpose:
# subclasses (numpy scalars subclass float, namedtuples subclass tuple, defaultdict subclasses dict) pickle as
# their own class and are rejected at load time.
_ATOMIC_TYPES: tuple[type, ...] = (type(None), bool, int, float, complex, str, bytes, bytearray)
_SPECIAL_TYPES: tuple[type, ...] = (torch.Size, torch.dtype, torch.device)
_MAPPING_TYPES: tuple[type, ...] = (dict, collections.OrderedDict, collections.Counter)
_SEQUENCE_TYPES: tuple[type, ...] = (list, tuple, set)


def _format_key_path(path: Sequence[Any]) -> str:
    return "state" + "".join(f"[{k!r}]" for k in path)


def _validate_weights_only(obj: Any, path: list[Any], active: set[int]) -> None:
    """Raise TypeError if ``obj`` contains anything ``torch.load(weights_only=True)`` would refuse."""
    obj_type = type(obj)
    if obj_type in _ATOMIC_TYPES or obj_type in _SPECIAL_TYPES:
        return
    if isinstance(obj, torch.Tensor):
        # Parameter is allow-listed; other tensor subclasses are rebuilt from their class and are refused.
        if obj_type not in (torch.Tensor, torch.nn.Parameter):
            raise TypeError(
                f"{_format_key_path(path)} is a tensor subclass {obj_type.__module__}.{obj_type.__qualname__}, "
                "which torch.load(weights_only=True) cannot load; convert it with .as_subclass(torch.Tensor)"
            )
        return
    if obj_type in _MAPPING_TYPES or obj_type in _SEQUENCE_TYPES:
        # Self-referencing containers would recurse forever; they are not expected in a training state.
        if id(obj) in active:
            raise TypeError(f"{_format_key_path(path)} is a container that contains itself")
        active.add(id(obj))
        try:
            if obj_type in _MAPPING_TYPES:
                for key, value in obj.items():
                    _validate_weights_only(key, [*path, key], active)
                    _validate_weights_only(value, [*path, key], active)
            else:
                for idx, item in enumerate(obj):
                    _validate_weights_only(item, [*path, idx], active)
        finally:
            active.discard(id(obj))
        return
    raise TypeError(
        f"{_format_key_path(path)} has type {obj_type.__module__}.{obj_type.__qualname__}, which "
        "torch.load(weights_only=True) cannot load; store it as a tensor or as built-in Python values "
        "(int, float, str, bool, None, list, tuple, dict) instead"
    )


def validate_checkpoint_state(state: Mapping[str, Any]) -> None:
    """Check that ``state`` only contains types that ``torch.load(weights_only=True)`` can load.

    Args:
        state: The mapping to check.

    Raises:
        TypeError: Naming the key path of the first offending value, e.g. ``state['extra']['step']``.
    """
    if not isinstance(state, dict):
        raise TypeError(f"checkpoint state must be a dict, got {type(state).__name__}")
    _validate_weights_only(state, [], set())


# ---------------------------------------------------------------------------------------------------------------
# Atomic file replacement
# ---------------------------------------------------------------------------------------------------------------


def previous_checkpoint_path(path: PathLike) -> Path:
    """Return the rotation target for ``path``: ``runs/x/last.pt`` -> ``runs/x/last.prev.pt``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.prev{path.suffix}")


def _temp_sibling(path: Path) -> Path:
    """Create and return an empty, uniquely named hidden file next to ``path``.

    The file lives in the same directory so that the final ``os.replace`` is a same-filesystem rename, which is
    atomic. It is created with ``os.open`` (not ``tempfile.mkstemp``) so that the final file gets the usual
    umask-derived permissions instead of mkstemp's 0600.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        candidate = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(candidate, flags, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return candidate


def _fsync_file(path: Path) -> None:
    # Append mode: Windows requires a writable handle for fsync, and append never truncates what was written.
    with open(path, "ab") as f:
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(directory: Path) -> None:
    """Persist directory entries (the rename) where the platform allows it; best effort elsewhere."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # e.g. Windows cannot open directories; NTFS journals renames anyway
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems (network mounts) refuse fsync on directories
    finally:
        os.close(fd)


def _rotate_to_previous(path: Path) -> None:
    """Make ``<stem>.prev<suffix>`` refer to the current content of ``path``.

    A hard link is preferred because ``path`` then stays in place until the new file atomically replaces it, so
    there is no instant at which ``path`` is missing. Where hard links are unsupported the file is renamed; a
    crash right after that leaves only the ``.prev`` file, which :func:`load_resume_checkpoint` handles.
    """
    prev = previous_checkpoint_path(path)
    link_tmp = path.with_name(f".{prev.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        os.link(path, link_tmp)
        os.replace(link_tmp, prev)
    except OSError:
        link_tmp.unlink(missing_ok=True)
        os.replace(path, prev)


@contextmanager
def _atomic_target(path: Path, keep_previous: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write to; on success it atomically replaces ``path``.

    On any exception (including KeyboardInterrupt) the temporary file is removed and ``path`` is untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_sibling(path)
    try:
        yield tmp
        _fsync_file(tmp)
        if keep_previous and path.is_file():
            _rotate_to_previous(path)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


# ---------------------------------------------------------------------------------------------------------------
# Training checkpoints
# ---------------------------------------------------------------------------------------------------------------


def save_checkpoint(state: dict[str, Any], path: PathLike, *, keep_previous: bool = False) -> Path:
    """Atomically write a training checkpoint.

    The state is validated first, then written to a hidden temporary file in the destination directory, flushed,
    fsync'ed and moved into place with ``os.replace``; the directory is fsync'ed where supported. A crash at any
    point leaves either the old or the new file at ``path``, never a partial one. Under DDP call it on the main
    process only: concurrent writers to the same path would race on the rotation.

    Args:
        state: The training state (model/optimizer/scheduler state dicts, epoch, RNG state, ...). It must only
            contain tensors, ``torch.Size``/``dtype``/``device`` and built-in values and containers so that it
            loads with ``torch.load(weights_only=True)``. A ``"resattn_checkpoint"`` format marker is added to the
            written copy; ``state`` itself is not modified.
        path: Destination file; parent directories are created.
        keep_previous: If True and ``path`` already exists, the existing file is kept as
            ``<stem>.prev<suffix>`` (e.g. ``last.prev.pt``) so that a good previous checkpoint always exists.

    Returns:
        The destination path.

    Raises:
        TypeError: If ``state`` contains a value that ``weights_only`` loading would refuse; the message names
            its key path.
        CheckpointError: If writing fails (the previous file, if any, is left intact).
    """
    validate_checkpoint_state(state)
    path = Path(path)
    payload = {FORMAT_KEY: FORMAT_VERSION, **{k: v for k, v in state.items() if k != FORMAT_KEY}}
    try:
        with _atomic_target(path, keep_previous=keep_previous) as tmp, open(tmp, "wb") as f:
            torch.save(payload, f)
    except Exception as exc:
        raise CheckpointError(f"failed to write checkpoint {path}: {type(exc).__name__}: {exc}") from exc
    return path


_UNSUPPORTED_GLOBAL_RE = re.compile(r"Unsupported global: GLOBAL (\S+)")


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _torch_load(path: PathLike, map_location: str | torch.device | None = "cpu", what: str = "checkpoint") -> Any:
    """``torch.load(weights_only=True)`` that reports every failure as a CheckpointError naming the file."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{what} file not found: {path}")
    if not path.is_file():
        raise CheckpointError(f"{what} path is not a file: {path}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{what} file {path} is empty (0 bytes); it was probably not written completely")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        # The weights_only unpickler also reports garbage bytes as a "Weights only load failed" error, so the
        # zip container check comes first to tell corruption apart from genuinely disallowed content.
        if not zipfile.is_zipfile(path):
            reason = (
                "it is truncated, corrupted, or not a PyTorch file (no valid zip archive found; "
                "an interrupted write or an incomplete copy would cause this)"
            )
        elif isinstance(exc, pickle.UnpicklingError) and "Weights only load failed" in str(exc):
            match = _UNSUPPORTED_GLOBAL_RE.search(str(exc))
            detail = f" (found {match.group(1)})" if match else ""
            reason = (
                "it contains pickled Python objects that weights_only loading refuses to execute"
                f"{detail}; only load such a file with weights_only=False if you trust its source"
            )
        else:
            reason = f"it is corrupted or unreadable ({type(exc).__name__}: {_first_line(str(exc))})"
        raise CheckpointError(f"cannot load {what} {path}: {reason}") from exc


def load_checkpoint(path: PathLike, map_location: str | torch.device | None = "cpu") -> dict[str, Any]:
    """Load a training checkpoint written by :func:`save_checkpoint`.

    Args:
        path: The checkpoint file.
        map_location: Passed to ``torch.load``; defaults to ``"cpu"`` so that a checkpoint written on any GPU
            can be opened anywhere.

    Returns:
        The saved state dict, including the ``"resattn_checkpoint"`` format marker.

    Raises:
        CheckpointError: If the file is missing, empty, truncated, corrupted, contains objects refused by
            ``weights_only`` loading, or is not a resattn checkpoint (e.g. a bare state dict; use
            :func:`load_weights` for those). The message names the file.
    """
    path = Path(path)
    obj = _torch_load(path, map_location=map_location)
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path} is not a resattn checkpoint: it holds a {type(obj).__name__}, not a dict")
    if FORMAT_KEY not in obj:
        raise CheckpointError(
            f"{path} is not a resattn training checkpoint (no {FORMAT_KEY!r} marker key); "
            "use load_weights() to read plain state dicts"
        )
    version = obj[FORMAT_KEY]
    if not isinstance(version, int) or version < 1 or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {version!r}; this resattn supports versions 1..{FORMAT_VERSION}"
        )
    return obj


# ---------------------------------------------------------------------------------------------------------------
# --resume auto
# ---------------------------------------------------------------------------------------------------------------


def _resume_candidates(path: Path, suffixes: Sequence[str]) -> list[Path]:
    """Existing resume candidates, best first.

    For a directory: every ``last<suffix>`` and ``last.prev<suffix>``, newest modification time first; on equal
    times (coarse filesystem clocks) the primary file wins over its ``.prev``. For a file: the file, then its
    ``.prev`` sibling.
    """
    if path.is_dir():
        found: list[tuple[int, bool, Path]] = []
        for suffix in suffixes:
            for name, is_primary in ((f"last{suffix}", True), (f"last.prev{suffix}", False)):
                candidate = path / name
                if candidate.is_file():
                    found.append((candidate.stat().st_mtime_ns, is_primary, candidate))
        found.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [item[2] for item in found]
    return [p for p in (path, previous_checkpoint_path(path)) if p.is_file()]


def load_resume_checkpoint(
    output_dir_or_path: PathLike,
    map_location: str | torch.device | None = "cpu",
    suffixes: Sequence[str] = CHECKPOINT_SUFFIXES,
) -> tuple[Path, dict[str, Any]] | None:
    """Load the checkpoint to resume from, falling back to the previous one if the latest is unreadable.

    With a run directory (``--resume auto``) the candidates are ``last<suffix>`` and ``last.prev<suffix>`` for
    every suffix in ``suffixes``, tried newest first. With a file path the candidates are that file and its
    ``.prev`` sibling. Each candidate that fails to load is reported with a logged warning naming the file and
    the next one is tried.

    Args:
        output_dir_or_path: A run directory or a checkpoint file.
        map_location: Passed to ``torch.load``.
        suffixes: Checkpoint file suffixes to look for in a directory.

    Returns:
        ``(path, state)`` of the first loadable candidate, or None if ``output_dir_or_path`` is a directory
        (existing or not) that holds no candidate at all, i.e. there is nothing to resume.

    Raises:
        CheckpointError: If candidates exist but none can be loaded (starting from scratch would silently
            overwrite them), or if an explicit file path has neither the file nor its ``.prev`` sibling.
    """
    path = Path(output_dir_or_path)
    candidates = _resume_candidates(path, suffixes)
    if not candidates:
        # A missing path without a checkpoint suffix is a run directory that does not exist yet: a fresh run.
        if path.is_dir() or (not path.exists() and path.suffix not in suffixes):
            return None
        raise CheckpointError(f"resume checkpoint not found: {path} (nor {previous_checkpoint_path(path).name})")
    errors: list[str] = []
    for i, candidate in enumerate(candidates):
        try:
            return candidate, load_checkpoint(candidate, map_location=map_location)
        except CheckpointError as exc:
            errors.append(str(exc))
            remaining = candidates[i + 1 :]
            fallback = f"; falling back to {remaining[0]}" if remaining else ""
            logger.warning("skipping unloadable resume checkpoint %s: %s%s", candidate, exc, fallback)
    raise CheckpointError("no loadable resume checkpoint in " + str(path) + ":\n  " + "\n  ".join(errors))


def find_resume_checkpoint(
    output_dir: PathLike,
    suffixes: Sequence[str] = CHECKPOINT_SUFFIXES,
) -> Path | None:
    """Return the newest loadable ``last*`` checkpoint of a run directory, for ``--resume auto``.

    Loadability is established by actually loading each candidate (on CPU), so prefer
    :func:`load_resume_checkpoint` when the state is needed anyway, to avoid reading the file twice.

    Args:
        output_dir: The run directory holding ``last.<ext>`` and possibly ``last.prev.<ext>``.
        suffixes: Checkpoint file suffixes to consider.

    Returns:
        The path to resume from, or None if the directory holds no ``last*`` checkpoint (or does not exist).

    Raises:
        CheckpointError: If ``last*`` files exist but none of them can be loaded.
    """
    found = load_resume_checkpoint(output_dir, map_location="cpu", suffixes=suffixes)
    return None if found is None else found[0]


# ---------------------------------------------------------------------------------------------------------------
# Weights: safetensors export and flexible loading
# ---------------------------------------------------------------------------------------------------------------


def _prepare_for_safetensors(state_dict: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """Detach, move to CPU, make contiguous and un-share tensors (safetensors refuses aliasing and views)."""
    out: dict[str, torch.Tensor] = {}
    seen_storages: set[int] = set()
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"safetensors keys must be str, got {type(key).__name__} ({key!r})")
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"state_dict[{key!r}] is a {type(value).__name__}; safetensors only stores tensors")
        tensor = value.detach().cpu().contiguous()
        if tensor.numel() > 0:
            storage = tensor.untyped_storage()
            # Tied weights share a storage and slices only cover part of theirs; both must become own copies.
            partial = tensor.storage_offset() != 0 or storage.nbytes() != tensor.numel() * tensor.element_size()
            if partial or storage.data_ptr() in seen_storages:
                tensor = tensor.clone()
            seen_storages.add(tensor.untyped_storage().data_ptr())
        out[key] = tensor
    return out


def export_safetensors(
    state_dict: Mapping[str, torch.Tensor],
    path: PathLike,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Atomically write a state dict as a ``.safetensors`` file.

    Tensors are detached, moved to CPU and made contiguous; tensors that share storage (tied weights) or are
    views into a larger storage are copied, because safetensors refuses aliasing.

    Args:
        state_dict: Mapping of parameter names to tensors, e.g. ``model.state_dict()``.
        path: Destination file; parent directories are created.
        metadata: Optional string-to-string metadata stored in the file header (e.g. architecture, num_classes).

    Returns:
        The destination path.

    Raises:
        TypeError: If a key or metadata entry is not a string or a value is not a tensor.
        CheckpointError: If writing fails (an existing file at ``path`` is left intact).
    """
    if metadata is not None:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError(f"safetensors metadata must map str to str, got {k!r}: {type(v).__name__}")
    tensors = _prepare_for_safetensors(state_dict)
    path = Path(path)
    try:
        with _atomic_target(path) as tmp:
            _st_save_file(tensors, str(tmp), metadata=metadata)
            # safetensors re-creates the file with mode 0600: give it the permissions any other output gets.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
    except Exception as exc:
        raise CheckpointError(f"failed to write safetensors file {path}: {type(exc).__name__}: {exc}") from exc
    return path


def strip_state_dict_prefixes(
    state_dict: Mapping[str, torch.Tensor],
    prefixes: Sequence[str] = WRAPPER_PREFIXES,
) -> dict[str, torch.Tensor]:
    """Remove leading wrapper prefixes (DDP ``module.``, ``torch.compile`` ``_orig_mod.``) from every key.

    Prefixes are removed repeatedly, so a compiled DDP model's ``module._orig_mod.conv.weight`` becomes
    ``conv.weight``.

    Args:
        state_dict: The state dict to rename.
        prefixes: Prefixes to remove.

    Returns:
        A new dict with the renamed keys (the tensors are not copied).

    Raises:
        CheckpointError: If stripping maps two keys to the same name.
    """
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        new_key = key
        stripped = True
        while stripped:
            stripped = False
            for prefix in prefixes:
                if new_key.startswith(prefix):
                    new_key = new_key[len(prefix) :]
                    stripped = True
        if new_key in out:
            raise CheckpointError(f"state dict keys collide after removing wrapper prefixes: {key!r} -> {new_key!r}")
        out[new_key] = value
    return out


def _looks_like_safetensors(path: Path) -> bool:
    """Recognise a safetensors file by content: 8-byte little-endian header size followed by a JSON object."""
    if path.suffix == ".safetensors":
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError:
        return False
    if len(head) < 9 or head[8:9] != b"{":
        return False
    header_size = int.from_bytes(head[:8], "little")
    return 0 < header_size <= path.stat().st_size - 8


def _is_tensor_state_dict(obj: Any) -> bool:
    return isinstance(obj, dict) and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


# Where other trainers keep their weights inside a checkpoint dict, per requested entry.
_FOREIGN_ENTRY_KEYS: dict[str, tuple[str, ...]] = {
    "model": ("model", "state_dict", "model_state_dict"),
    "ema": ("ema", "state_dict_ema", "model_ema"),
}


def load_weights(
    path: PathLike,
    which: Literal["model", "ema"] = "model",
    map_location: str | torch.device = "cpu",
    strip_prefixes: bool = True,
) -> dict[str, torch.Tensor]:
    """Load model weights from a safetensors file, a resattn training checkpoint or a plain state dict.

    Args:
        path: A ``.safetensors`` file (also recognised by content), a checkpoint written by
            :func:`save_checkpoint`, or a ``torch.save``'d state dict. All ``torch`` files are read with
            ``weights_only=True``.
        which: For training checkpoints, which entry to return: ``"model"`` or ``"ema"``. Ignored for
            safetensors files and plain state dicts.
        map_location: Device to load the tensors to.
        strip_prefixes: Remove leading ``module.`` (DDP) and ``_orig_mod.`` (``torch.compile``) key prefixes.

    Returns:
        A state dict mapping parameter names to tensors.

    Raises:
        CheckpointError: If the file is missing or unreadable, if the requested entry does not exist, or if the
            content is not a mapping of names to tensors. The message names the file.
    """
    if which not in _FOREIGN_ENTRY_KEYS:
        raise ValueError(f"which must be 'model' or 'ema', got {which!r}")
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"weights file not found: {path}")

    if _looks_like_safetensors(path):
        try:
            weights: Any = _st_load_file(str(path), device=str(map_location))
        except Exception as exc:
            raise CheckpointError(
                f"cannot load safetensors file {path}: {type(exc).__name__}: {_first_line(str(exc))}"
            ) from exc
    else:
        obj = _torch_load(path, map_location=map_location, what="weights")
        if _is_tensor_state_dict(obj):
            weights = obj
        elif isinstance(obj, dict):
            # A resattn checkpoint names its entries exactly; other trainers' layouts get a few common aliases.
            entry_keys = (which,) if FORMAT_KEY in obj else _FOREIGN_ENTRY_KEYS[which]
            entry_key = next((k for k in entry_keys if obj.get(k) is not None), None)
            if entry_key is None:
                available = ", ".join(repr(k) for k, v in obj.items() if isinstance(v, dict)) or "none"
                raise CheckpointError(f"{path} has no {which!r} weights entry (dict entries present: {available})")
            weights = obj[entry_key]
        else:
            raise CheckpointError(f"{path} does not contain a state dict (found {type(obj).__name__})")

    if not _is_tensor_state_dict(weights):
        raise CheckpointError(f"{path}: the {which!r} entry is not a mapping of parameter names to tensors")
    return strip_state_dict_prefixes(weights) if strip_prefixes else dict(weights)
