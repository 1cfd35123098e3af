import json

import pytest
import torch

import resattn
from resattn.analysis import relative_mean_response, stage_mean_responses
from resattn.cli import main


def test_stage_responses_match_a_direct_computation():
    model = resattn.create_model("attention56_cifar").eval()
    x = torch.randn(6, 3, 32, 32)
    got = stage_mean_responses(model, [(x[:4], None), (x[4:], None)])
    with torch.no_grad():
        feats = model.forward_intermediates(x, indices=[1, 2, 3], intermediates_only=True)
    expected = [f.abs().mean().item() for f in feats]
    assert got == pytest.approx(expected, rel=1e-5)
    rel = relative_mean_response(got)
    assert rel[0] == 1.0 and rel[1] == pytest.approx(got[1] / got[0])


def test_max_images_limits_the_sample():
    model = resattn.create_model("attention56_cifar").eval()
    x = torch.randn(8, 3, 32, 32)
    assert stage_mean_responses(model, [x], max_images=3) == pytest.approx(stage_mean_responses(model, [x[:3]]))


def test_naive_attention_shrinks_responses_more_than_residual():
    """Eq. 1 vs Eq. 3 with the same weights: masks in (0, 1) can only scale T down under naive learning."""
    arl = resattn.create_model("attention92_cifar").train()
    nal = resattn.create_model("attention92_cifar", attention_residual=False).train()
    nal.load_state_dict(arl.state_dict())
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():  # train mode: batch statistics, a realistic scale at initialisation
        a = [f.abs().mean().item() for f in arl.forward_intermediates(x, indices=[1], intermediates_only=True)]
        n = [f.abs().mean().item() for f in nal.forward_intermediates(x, indices=[1], intermediates_only=True)]
    assert n[0] < a[0]


def test_cli_table_plot_and_json(tmp_path, capsys):
    out = tmp_path / "fig4.png"
    assert main(["analyze", "response", "--model", "attention56_cifar", "preact_resnet164_cifar", "--dataset", "fake",
                 "--num-images", "16", "--labels", "ARL", "ResNet", "--output", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| ARL | 1.000 |" in text and "| ResNet | 1.000 |" in text
    assert out.exists() and json.loads(out.with_suffix(".json").read_text())["ARL"]["relative"][0] == 1.0


def test_cli_needs_a_model(capsys):
    assert main(["analyze", "response", "--dataset", "fake"]) == 2
    assert "at least one" in capsys.readouterr().err
