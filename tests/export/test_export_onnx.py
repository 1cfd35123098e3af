"""ONNX export: dynamic batch / height / width checked in onnxruntime, run-time mask sizes, metadata, BN folding."""

import json

import pytest
import torch
from torch import nn

import resattn
from resattn.export import check_inputs, check_onnx, export_onnx, fold_batchnorm, load_onnx
from resattn.models import NetSpec, ResidualAttentionNet, StageSpec

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

# One worker for the whole module: its module-scoped export (the slowest step) then runs once, not once per worker.
pytestmark = pytest.mark.xdist_group("onnx_export")


def calibrate_bn(model: nn.Module, x: torch.Tensor) -> nn.Module:
    """Give every BN the statistics of its input, as training would.

    A freshly initialised net has identity BN statistics, so activations grow with depth and CIFAR Attention-92's
    logits reach ~1e3, where float32 rounding alone exceeds a 1e-4 absolute tolerance. Trained BN statistics keep
    them near unit scale; one train-mode pass with a cumulative average (momentum None) sets them.
    """
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    with torch.no_grad():
        model(x)
    return model.eval()


# (name, export size, second resolution (H, W) of the check): ImageNet net at 224 and an odd non-square size.
CASES = {
    "attention56": (224, (257, 193)),
    "attention92_cifar": (32, (45, 37)),
}


@pytest.fixture(scope="module", params=list(CASES))
def exported(request, tmp_path_factory):
    name = request.param
    size, _ = CASES[name]
    torch.manual_seed(0)
    model = calibrate_bn(resattn.create_model(name, num_classes=10), torch.randn(4, 3, 64, 64))
    path = export_onnx(model, tmp_path_factory.mktemp("onnx") / f"{name}.onnx", (3, size, size),
                       metadata={"model": name, "dataset": "cifar10", "class_names": json.dumps(["a", "b"])})
    return name, model, path


def test_onnx_matches_pytorch_at_two_batch_sizes_and_resolutions(exported):
    name, model, path = exported
    size, (h2, w2) = CASES[name]
    inputs = [torch.randn(1, 3, size, size), torch.randn(3, 3, h2, w2),
              torch.randn(1, 3, model.min_input_size, model.min_input_size)]  # lowest mask maps are 1x1 here
    diff = check_onnx(path, model, inputs)
    print(f"{name}: max abs difference {diff:.3g}")
    assert diff < 1e-4


def test_graph_axes_are_symbolic_and_mask_sizes_come_from_the_reference_tensor(exported):
    _, _, path = exported
    graph = onnx.load(str(path), load_external_data=False).graph
    dims = [d.dim_param or d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 3, "height", "width"]
    assert [d.dim_param or d.dim_value for d in graph.output[0].type.tensor_type.shape.dim] == ["batch", 10]
    constants = {init.name for init in graph.initializer}
    constants |= {out for node in graph.node if node.op_type == "Constant" for out in node.output}
    resizes = [node for node in graph.node if node.op_type == "Resize"]
    assert resizes
    for node in resizes:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        assert attrs["coordinate_transformation_mode"] == b"align_corners" and attrs["mode"] == b"linear"
        sizes = node.input[3] if len(node.input) > 3 else ""
        # A frozen size would be an initializer or a Constant; a run-time one is computed from a Shape.
        assert sizes and sizes not in constants, f"Resize {node.name} has no run-time sizes"


def test_metadata_round_trip(exported):
    name, _, path = exported
    loaded = load_onnx(path)
    assert (loaded.name, loaded.dataset, loaded.class_names) == (name, "cifar10", ["a", "b"])
    assert loaded.in_chans == 3 and loaded.fixed_size is None
    assert loaded.input_size == (3, CASES[name][0], CASES[name][0])


def tiny_net() -> ResidualAttentionNet:
    """One stage with one Attention Module (two mask poolings): exports in a few seconds."""
    return ResidualAttentionNet(NetSpec("cifar", 8, (StageSpec(16, 1, 1, 1, 2),)), num_classes=4).eval()


def test_static_export_and_clear_errors(tmp_path):
    model = tiny_net()
    path = export_onnx(model, tmp_path / "static.onnx", (3, 32, 32), dynamic=False, fold_bn=True)
    loaded = load_onnx(path)
    assert loaded.fixed_size == (32, 32)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), rtol=1e-3, atol=1e-3)
    with pytest.raises(ValueError, match="cannot run on an input of shape"):
        loaded(torch.randn(1, 3, 40, 40))
    with pytest.raises(ValueError, match="too small"):
        export_onnx(model, tmp_path / "small.onnx", (3, 3, 3))
    with pytest.raises(ValueError, match="opset 17 is not supported"):
        export_onnx(model, tmp_path / "old.onnx", (3, 32, 32), opset=17)
    with pytest.raises(ValueError, match="in_chans"):
        export_onnx(model, tmp_path / "gray.onnx", (1, 32, 32))
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a protobuf")
    with pytest.raises(ValueError, match="Cannot load ONNX model"):
        load_onnx(bad)
    with pytest.raises(FileNotFoundError):
        load_onnx(tmp_path / "missing.onnx")


def test_check_inputs_are_odd_and_non_square():
    small, large = check_inputs((3, 224, 224))
    assert small.shape == (1, 3, 224, 224)
    assert large.shape[0] == 3 and large.shape[2] % 2 == 1 and large.shape[3] % 2 == 1
    assert large.shape[2] != large.shape[3]


def _count_bn(model: nn.Module) -> int:
    return sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())


def _count_type(model: nn.Module, name: str) -> int:
    return sum(type(m).__name__ == name for m in model.modules())


def test_fold_batchnorm_is_exact_for_preact_nets():
    model = calibrate_bn(resattn.create_model("attention92_cifar", num_classes=10), torch.randn(2, 3, 32, 32))
    model = model.double()
    before = _count_bn(model)
    folded = fold_batchnorm(model)
    # Pre-activation units fold bn2 and bn3 (each right after a conv) but keep bn1, which follows a sum and precedes
    # a ReLU; mask heads fold bn2 only; the final norm stays.
    assert _count_bn(folded) == before - 2 * _count_type(model, "PreActBottleneck") - _count_type(model, "MaskHead")
    assert _count_bn(model) == before and not model.training  # the original is untouched
    # Exact up to rounding: checked in float64, since in float32 the rounding of the folded weights is amplified
    # through dozens of units by random (poorly conditioned) BN statistics to ~1e-5 of the logits.
    x = torch.randn(2, 3, 35, 33, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), model(x), rtol=1e-9, atol=1e-9)


def test_fold_batchnorm_is_exact_for_resnext_nets():
    # AttentionNeXt's layout in miniature: ImageNet stem (conv -> BN), post-activation ResNeXt units with a
    # projection shortcut (conv -> BN), post-activation mask head. Every BN follows a conv: all of them fold.
    spec = NetSpec("imagenet", 16, (StageSpec(64, 1, 1, 1, 2),), unit="resnext")
    model = calibrate_bn(ResidualAttentionNet(spec, num_classes=10), torch.randn(2, 3, 64, 64)).double()
    assert _count_type(model, "ResNeXtBottleneck") > 0 and _count_bn(model) > 0
    folded = fold_batchnorm(model)
    assert _count_bn(folded) == 0
    x = torch.randn(2, 3, 67, 65, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), model(x), rtol=1e-9, atol=1e-9)
