"""Reader for the IDX file format used by MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number ``0x00 0x00 <dtype code> <ndim>``, then ``ndim`` big-endian int32 dimension
sizes, then the array in C order, big-endian. Files may be gzip-compressed (``.gz``).
"""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np
import torch

__all__ = ["read_idx"]

# IDX type codes -> big-endian numpy dtypes (from the format definition on the MNIST page).
_IDX_DTYPES: dict[int, str] = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}

_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    # Sniff the gzip magic instead of trusting the suffix: people often gunzip without renaming, or vice versa.
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"IDX file {path!r} is not a valid gzip stream (truncated download?): {exc}") from exc


def read_idx(path: str | os.PathLike[str], expected_ndim: int | None = None) -> torch.Tensor:
    """Reads an IDX file (optionally gzipped) into a tensor.

    Args:
        path: File to read. Gzip compression is detected from the content, not the name.
        expected_ndim: If given, the file must hold an array with exactly this many dimensions.

    Returns:
        A tensor with the file's shape. ``uint8`` data stays ``torch.uint8``; other types are converted to the native
        byte order of the matching torch dtype.

    Raises:
        ValueError: If the file is not IDX, is truncated or has trailing data, or has the wrong number of dimensions.
            The message names the file.
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"IDX file {path!r} is too short ({len(data)} bytes) to hold a header")
    zero0, zero1, type_code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0 or type_code not in _IDX_DTYPES:
        raise ValueError(
            f"IDX file {path!r} has a bad magic number 0x{data[:4].hex()}; expected 0x0000<type><ndim> "
            f"with type in {sorted(hex(c) for c in _IDX_DTYPES)}"
        )
    if ndim == 0 or (expected_ndim is not None and ndim != expected_ndim):
        want = f"{expected_ndim}" if expected_ndim is not None else ">= 1"
        raise ValueError(f"IDX file {path!r} declares {ndim} dimensions, expected {want}")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise ValueError(f"IDX file {path!r} is truncated inside its header")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">i4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[type_code])
    expected_len = header_len + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected_len:
        problem = "truncated" if len(data) < expected_len else "longer than its header says"
        raise ValueError(
            f"IDX file {path!r} is {problem}: header says shape {dims} ({expected_len} bytes), "
            f"file has {len(data)} bytes"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(dims)
    # astype(native) copies, which also gives torch a writable buffer it owns.
    return torch.from_numpy(array.astype(dtype.newbyteorder("=")))
