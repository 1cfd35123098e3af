"""Find the layout of a labelled image folder and list its files per split and class, without decoding anything.

Two layouts are accepted:

* ``root/train/<class>/*``, with ``root/val/<class>/*`` and ``root/test/<class>/*`` used when present;
* a flat ``root/<class>/*`` (everything is training data; validation is carved from it).

Files are listed recursively inside each class folder; hidden files and folders (a leading ``.``) are skipped, since
file managers and version control leave them behind. Every other file counts: whether it is an image is for the
decode check (:mod:`resattn.data.image_check`) to say, so a stray ``notes.txt`` is reported rather than ignored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SPLIT_NAMES", "FolderLayout", "scan_folder"]

SPLIT_NAMES: tuple[str, ...] = ("train", "val", "test")


@dataclass
class FolderLayout:
    """What :func:`scan_folder` found.

    Attributes:
        root: The folder given.
        kind: "splits" (``root/train/...``) or "flat" (``root/<class>/...``).
        classes: Class names (sorted folder names of the training split); a label is an index into it.
        files: split name -> sorted ``(path, label)`` pairs; "train" always, "val" / "test" when present.
        ignored: Entries next to the expected folders that were left out (loose files, other folders).
    """

    root: Path
    kind: str
    classes: list[str]
    files: dict[str, list[tuple[str, int]]]
    ignored: list[str] = field(default_factory=list)

    def count(self, split: str) -> list[int]:
        """Number of files of each class in ``split``."""
        counts = [0] * len(self.classes)
        for _, label in self.files.get(split, []):
            counts[label] += 1
        return counts


def _visible(names: list[str]) -> list[str]:
    return sorted(n for n in names if not n.startswith("."))


def _class_dirs(folder: Path) -> tuple[list[str], list[str]]:
    """Sub-folder names of ``folder`` and the names of loose files beside them."""
    entries = _visible(os.listdir(folder))
    dirs = [n for n in entries if (folder / n).is_dir()]
    return dirs, [n for n in entries if n not in dirs]


def _files_under(folder: Path) -> list[str]:
    found = []
    for top, dirs, names in os.walk(folder, followlinks=True):
        dirs[:] = _visible(dirs)  # in place: os.walk then skips hidden folders
        found += [os.path.join(top, n) for n in _visible(names)]
    return sorted(found)


def _list_split(folder: Path, classes: list[str], split: str, ignored: list[str]) -> list[tuple[str, int]]:
    dirs, loose = _class_dirs(folder)
    ignored += [str(folder / n) for n in loose]
    unknown = [d for d in dirs if d not in classes]
    if unknown:
        raise ValueError(f"{folder} has class folders that train/ lacks: {', '.join(unknown)}; every class of "
                         f"{split}/ must also be a class of train/ ({', '.join(classes)})")
    return [(path, classes.index(d)) for d in dirs for path in _files_under(folder / d)]


def scan_folder(root: str | os.PathLike[str]) -> FolderLayout:
    """Lists a labelled image folder (see the module docstring for the layouts).

    Raises:
        FileNotFoundError: ``root`` is not a folder.
        ValueError: No class folders, an empty class folder in the training split, or val/test classes that the
            training split lacks. Each message names the folder and the expected layout.
    """
    root = Path(os.path.expanduser(str(root)))
    layouts = f"{root}/train/<class>/<image> (with optional val/ and test/) or {root}/<class>/<image>"
    if not root.is_dir():
        raise FileNotFoundError(f"Image folder {root} does not exist; expected {layouts}")
    ignored: list[str] = []
    if (root / "train").is_dir():
        kind, train_dir = "splits", root / "train"
        dirs, loose = _class_dirs(root)
        ignored += [str(root / n) for n in dirs + loose if n not in SPLIT_NAMES]
    else:
        kind, train_dir = "flat", root
    classes, loose = _class_dirs(train_dir)
    if not classes:
        raise ValueError(f"{train_dir} holds no class folders; expected {layouts}")
    ignored += [str(train_dir / n) for n in loose]
    files = {"train": [(path, label) for label, name in enumerate(classes) for path in _files_under(train_dir / name)]}
    layout = FolderLayout(root, kind, classes, files, ignored)
    empty = [name for name, n in zip(classes, layout.count("train"), strict=True) if n == 0]
    if empty:
        raise ValueError(f"Class folder(s) without files in {train_dir}: {', '.join(empty)}")
    if kind == "splits":
        for split in SPLIT_NAMES[1:]:
            if (root / split).is_dir():
                files[split] = _list_split(root / split, classes, split, ignored)
    return layout
