"""Image files named on a command line: files, folders (searched recursively) and glob patterns."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

__all__ = ["IMAGE_SUFFIXES", "find_images"]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
_GLOB_CHARS = set("*?[")


def _images_in(folder: Path) -> list[Path]:
    # Inside a folder only image suffixes count (a folder of photos often holds a CSV or notes too); hidden entries
    # (".DS_Store", ".git/") are never images.
    return sorted(f for f in folder.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
                  and not any(part.startswith(".") for part in f.relative_to(folder).parts))


def find_images(paths: Sequence[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expands ``paths`` into image files.

    A file is taken as given (whatever its suffix: decoding says whether it is an image); a folder gives the image
    files below it; a pattern with ``*``, ``?`` or ``[`` is expanded (``**`` spans folders) and each match is taken
    as a file or a folder.

    Returns:
        ``(files, problems)``: the files in order, without repeats, and ``(path, reason)`` for each argument that
        names nothing.
    """
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    for text in paths:
        path = Path(text).expanduser()
        if path.exists():
            matches = [path]
        elif _GLOB_CHARS & set(text):
            matches = [Path(m) for m in sorted(glob.glob(str(path), recursive=True))]
            if not matches:
                problems.append((text, "the pattern matches no file"))
        else:
            matches = []
            problems.append((text, "no such file or folder"))
        for match in matches:
            found = _images_in(match) if match.is_dir() else [match]
            if match.is_dir() and not found:
                problems.append((str(match), "the folder holds no image files"))
            files += found
    return list(dict.fromkeys(files)), problems
