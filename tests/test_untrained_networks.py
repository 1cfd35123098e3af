"""`resattn export`, `predict` and `visualize` on an untrained network: its logits reach 1e3 to 1e4, so the export
check must be relative to their scale, and nothing may assume trained weights."""

import contextlib
import io

import numpy as np
import pytest
from PIL import Image

from resattn.cli import main


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = main(argv)
    return status, out.getvalue()


@pytest.fixture()
def images(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(2):
        Image.fromarray(np.random.default_rng(i).integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(
            folder / f"{i}.png")
    return folder


@pytest.mark.slow
def test_export_of_an_untrained_network_passes_its_check(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    status, out = run(["export", "--model", "attention92_cifar", "--format", "onnx", "--output",
                       str(tmp_path / "m.onnx")])
    assert status == 0, out
    check = next(line for line in out.splitlines() if line.startswith("checked onnxruntime"))
    scale, relative = float(check.split("output scale ")[1].split(",")[0]), float(check.rsplit(" ", 1)[1])
    assert scale > 100 and relative < 1e-3  # an absolute 1e-3 on logits of this scale refused it


def test_predict_with_an_untrained_network(images):
    status, out = run(["predict", "--model", "attention56_cifar", str(images)])
    assert status == 0, out
    assert out.count(".png:") == 2


def test_visualize_an_untrained_network(images, tmp_path):
    status, out = run(["visualize", "--model", "attention56_cifar", "--images", str(images), "--output",
                       str(tmp_path / "masks.png")])
    assert status == 0, out
    assert (tmp_path / "masks.png").stat().st_size > 0
