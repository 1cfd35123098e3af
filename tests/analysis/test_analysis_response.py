import json

import pytest
import torch
from torch import nn

import resattn
from resattn.analysis import relative_mean_response, stage_mean_responses
from resattn.cli import main


class _Stages(nn.Module):
    """A stand-in network of three stages whose outputs are 2x, -1x and 0.5x the input."""

    def __init__(self) -> None:
        super().__init__()
        self.stages = nn.ModuleList(nn.Identity() for _ in range(3))

    def forward_intermediates(self, x, indices, intermediates_only):
        assert indices == [1, 2, 3] and intermediates_only  # the three stage outputs, not the stem
        return [2 * x, -x, 0.5 * x]


# Three one-channel 2x2 images with mean |pixel| 1, 2 and 3.
IMAGES = torch.tensor([[[[1.0, 1.0], [1.0, 1.0]]], [[[1.0, -3.0], [2.0, -2.0]]], [[[3.0, 3.0], [3.0, 3.0]]]])


def test_stage_responses_by_hand():
    # mean |x| over the images is (1 + 2 + 3) / 3 = 2, so the stages give 2 * 2, 1 * 2 and 0.5 * 2
    got = stage_mean_responses(_Stages(), [(IMAGES[:2], None), (IMAGES[2:], None)])
    assert got == pytest.approx([4.0, 2.0, 1.0])
    assert relative_mean_response(got) == pytest.approx([1.0, 0.5, 0.25])
    # the first two images only: (1 + 2) / 2 = 1.5
    assert stage_mean_responses(_Stages(), [IMAGES], max_images=2) == pytest.approx([3.0, 1.5, 0.75])
    with pytest.raises(ValueError, match="zero mean response"):
        relative_mean_response([0.0, 1.0, 1.0])


def _hooked_stage_responses(model, x):
    """Mean |output| of each of ``model.stages``, read by forward hooks during a plain forward pass."""
    outputs = []
    handles = [stage.register_forward_hook(lambda m, a, out: outputs.append(out.abs().mean().item()))
               for stage in model.stages]
    with torch.no_grad():
        model.eval()(x)
    for handle in handles:
        handle.remove()
    return outputs


def test_stage_responses_are_the_stage_outputs_of_a_real_network():
    model = resattn.create_model("attention56_cifar").eval()
    x = torch.randn(6, 3, 32, 32)
    got = stage_mean_responses(model, [(x[:4], None), (x[4:], None)])
    per_image = torch.tensor([_hooked_stage_responses(model, x[i:i + 1]) for i in range(6)])
    assert got == pytest.approx(per_image.mean(0).tolist(), rel=1e-5)


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
    from resattn.data import create_dataset, create_transform, dataset_info

    out = tmp_path / "fig4.png"
    names = ["attention56_cifar", "preact_resnet164_cifar"]
    torch.manual_seed(0)  # the two networks' initial weights
    assert main(["analyze", "response", "--model", *names, "--dataset", "fake", "--num-images", "16",
                 "--labels", "ARL", "ResNet", "--output", str(out)]) == 0
    text = capsys.readouterr().out
    table = json.loads(out.with_suffix(".json").read_text())
    assert out.exists() and list(table) == ["ARL", "ResNet"]
    # the same networks (same seed, same order), the first 16 test images, each stage's output read by hooks
    torch.manual_seed(0)
    models = [resattn.create_model(name) for name in names]
    info = dataset_info("fake")
    data = create_dataset("fake", split="test", transform=create_transform(info["transform_preset"], train=False))
    x = torch.stack([data[i][0] for i in range(16)])
    for label, name, model in zip(table, names, models):
        expected = torch.tensor([_hooked_stage_responses(model, x[i:i + 1]) for i in range(16)]).mean(0)
        assert table[label]["model"] == name
        assert table[label]["mean_abs"] == pytest.approx(expected.tolist(), rel=1e-5)
        relative = (expected / expected[0]).tolist()
        assert table[label]["relative"] == pytest.approx(relative, rel=1e-5)
        (row,) = [line for line in text.splitlines() if line.startswith(f"| {label} | ")]
        assert [float(v) for v in row.strip("| ").split(" | ")[1:]] == pytest.approx(relative, rel=1e-4, abs=1e-3)
    assert "(16 fake/test images; relative to stage 1)" in text


def test_cli_needs_a_model(capsys):
    assert main(["analyze", "response", "--dataset", "fake"]) == 2
    assert "at least one" in capsys.readouterr().err
