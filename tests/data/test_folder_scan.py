"""Image-folder layouts: split folders and flat class folders, hidden and stray files, wrong layouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from resattn.data.folder_scan import scan_folder


def _png(path: Path, value: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8), value, dtype=np.uint8)).save(path)


def test_split_layout_lists_each_split(tmp_path: Path) -> None:
    for split, n in (("train", 3), ("val", 1), ("test", 2)):
        for cls in ("b_dog", "a_cat"):
            for i in range(n):
                _png(tmp_path / split / cls / f"{i}.png")
    _png(tmp_path / "train" / "a_cat" / "deeper" / "nested.png")  # files below a class folder belong to it
    layout = scan_folder(tmp_path)
    assert layout.kind == "splits" and layout.classes == ["a_cat", "b_dog"]
    assert layout.count("train") == [4, 3] and layout.count("val") == [1, 1] and layout.count("test") == [2, 2]
    assert all(label == (0 if "a_cat" in p else 1) for p, label in layout.files["train"])


def test_flat_layout_and_what_is_skipped(tmp_path: Path) -> None:
    _png(tmp_path / "ok" / "1.png")
    _png(tmp_path / "ok" / ".hidden.png")
    _png(tmp_path / "ok" / ".git" / "x.png")
    _png(tmp_path / "ko" / "2.png")
    (tmp_path / "ko" / "notes.txt").write_text("not an image")  # listed: the decode check reports it
    (tmp_path / "README.md").write_text("loose file")
    layout = scan_folder(tmp_path)
    assert layout.kind == "flat" and layout.classes == ["ko", "ok"] and set(layout.files) == {"train"}
    assert sorted(Path(p).name for p, _ in layout.files["train"]) == ["1.png", "2.png", "notes.txt"]
    assert layout.ignored == [str(tmp_path / "README.md")]


def test_val_classes_must_be_train_classes(tmp_path: Path) -> None:
    _png(tmp_path / "train" / "cat" / "1.png")
    _png(tmp_path / "val" / "cat" / "1.png")
    _png(tmp_path / "val" / "horse" / "1.png")
    with pytest.raises(ValueError, match="horse"):
        scan_folder(tmp_path)


def test_missing_empty_and_classless_folders(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist; expected .*train/<class>"):
        scan_folder(tmp_path / "nope")
    (tmp_path / "loose.png").write_bytes(b"")
    with pytest.raises(ValueError, match="no class folders"):
        scan_folder(tmp_path)
    (tmp_path / "cat").mkdir()
    _png(tmp_path / "dog" / "1.png")
    with pytest.raises(ValueError, match="without files.*cat"):
        scan_folder(tmp_path)
