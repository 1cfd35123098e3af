"""`resattn export` and `resattn predict --onnx` end to end on a tiny checkpoint; errors are one clear line."""

import contextlib
import io
import json

import numpy as np
import pytest
from PIL import Image

from resattn.cli import main

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

# One worker for the whole module: its module-scoped export (the slowest step) then runs once, not once per worker.
pytestmark = pytest.mark.xdist_group("export_cli")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    args = ["train", "--model", "attention56_cifar", "--dataset", "fake", "--iters", "2", "-b", "4",
            "--val-split", "8", "--eval-interval", "2", "--no-test", "--amp", "none", "--output", str(out),
            "--progress", "none"]
    assert main(args) == 0
    return out


@pytest.fixture(scope="module")
def export_run(trained, tmp_path_factory):
    """One `resattn export` for the whole module (the slowest step): its ONNX file and what it printed."""
    path = tmp_path_factory.mktemp("onnx") / "net.onnx"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["export", "--checkpoint", str(trained / "best.pt"), "--output", str(path)]) == 0
    return path, out.getvalue()


@pytest.fixture()
def exported(export_run):
    return export_run[0]


@pytest.fixture()
def images(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(2):
        Image.fromarray(np.full((40, 50, 3), 60 + 90 * i, dtype=np.uint8)).save(folder / f"im{i}.png")
    return folder


def test_export_checks_two_batch_sizes_and_resolutions(export_run):
    path, out = export_run
    assert f"wrote {path} (onnx, attention56_cifar" in out
    check = next(line for line in out.splitlines() if line.startswith("checked onnxruntime"))
    assert "1x3x32x32" in check and "3x3x39x37" in check
    assert float(check.rsplit(" ", 1)[1]) < 1e-4
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert meta["model"] == "attention56_cifar" and meta["dataset"] == "fake"
    assert json.loads(meta["class_names"])[:2] == ["class_0", "class_1"]


def test_predict_onnx_matches_pytorch(trained, exported, images, capsys):
    assert main(["predict", str(images), "--onnx", str(exported), "--topk", "2", "--json"]) == 0
    from_onnx = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["predict", str(images), "--checkpoint", str(trained / "best.pt"), "--topk", "2", "--json"]) == 0
    from_torch = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(from_onnx) == 2 and all(len(item["predictions"]) == 2 for item in from_onnx)
    assert from_onnx[0]["predictions"][0]["label"].startswith("class_")
    for a, b in zip(from_onnx, from_torch, strict=True):
        assert a["image"] == b["image"]
        for pa, pb in zip(a["predictions"], b["predictions"], strict=True):
            assert pa["index"] == pb["index"] and pa["prob"] == pytest.approx(pb["prob"], abs=1e-3)


def test_predict_onnx_needs_a_dataset(exported, images, tmp_path, capsys):
    model = onnx.load(str(exported))
    del model.metadata_props[:]
    bare = tmp_path / "bare.onnx"
    onnx.save(model, str(bare))
    assert main(["predict", str(images), "--onnx", str(bare)]) == 2
    err = capsys.readouterr().err
    assert "pass --dataset" in err and "Traceback" not in err
    assert main(["predict", str(images), "--onnx", str(bare), "--dataset", "fake"]) == 0
    assert "im0.png: class_" in capsys.readouterr().out  # no class names in the file: the dataset's are used


def test_export_pt2_from_safetensors(trained, tmp_path, capsys):
    path = tmp_path / "net.pt2"
    assert main(["export", "--checkpoint", str(trained / "best.safetensors"), "--output", str(path), "--fold-bn"]) == 0
    out = capsys.readouterr().out
    assert "(pt2, attention56_cifar" in out and "checked the saved program" in out


def test_mismatched_checkpoint_is_one_line(trained, tmp_path, capsys):
    argv = ["export", "--checkpoint", str(trained / "best.safetensors"), "--model", "attention92_cifar",
            "--output", str(tmp_path / "x.onnx")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "does not fit attention92_cifar" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.onnx").exists()


def test_opset_with_pt2_is_refused(tmp_path, capsys):
    argv = ["export", "--model", "attention56_cifar", "--output", str(tmp_path / "x.pt2"), "--opset", "17"]
    assert main(argv) == 2
    assert "--opset applies to --format onnx only" in capsys.readouterr().err


@pytest.mark.parametrize("content, suffix", [(b"PK\x03\x04 truncated zip", ".pt"), (b"\x00\x01garbage", ".onnx")])
def test_corrupt_files_are_one_line(tmp_path, images, capsys, content, suffix):
    bad = tmp_path / f"bad{suffix}"
    bad.write_bytes(content)
    if suffix == ".pt":
        argv = ["export", "--checkpoint", str(bad), "--output", str(tmp_path / "x.onnx")]
    else:
        argv = ["predict", str(images), "--onnx", str(bad)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert bad.name in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.onnx").exists()


def test_output_suffix_must_name_a_format(capsys, tmp_path):
    assert main(["export", "--model", "attention56_cifar", "--output", str(tmp_path / "net.bin")]) == 2
    assert "--format onnx or pt2" in capsys.readouterr().err
