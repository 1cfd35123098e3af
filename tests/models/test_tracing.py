"""The ecosystem's model tools on every model: torch.fx symbolic tracing, torchvision's feature extraction,
TorchScript, torch.export with dynamic batch, height and width, and ONNX (run in onnxruntime).

Inputs are the smallest the network takes, and BN statistics are measured on random images (one train-mode pass), so
that activations stay O(1) and the tools' different kernels and layouts differ by float rounding only (untrained
statistics let a deep net's logits reach 1e18, where rounding is no longer small). FX, feature extraction and
TorchScript run on every registered model (all but one per stem and unit type in the slow suite) and on the
ablations, one model built and calibrated for the three. Exporting costs seconds per
hundred operators, so torch.export and ONNX run on one network per stem and unit type and on one-module networks for
the two mask activations with their own operators; ``test_every_registered_model_repeats_an_exported_one`` checks
that every registered model is made of the blocks of an exported one (the others differ in how often a block
repeats, {p, t, r} included).
"""

from __future__ import annotations

import warnings

import pytest
import torch

import resattn
from resattn.models import NetSpec, ResidualAttentionNet, StageSpec

# The default suite traces one network per stem and unit type and the ablations; the deeper networks repeat their
# blocks and run in the slow suite (make test-all), with the ImageNet-stem exports (a minute each on 2 cores).
QUICK = {"attention56", "attentionnext56", "attention56_cifar", "preact_resnet164_cifar"}
ABLATIONS = [dict(attention_residual=False), dict(mask_act="spatial"), dict(mask_act="channel"),
             dict(mask_type="local_conv")]
CASES = [pytest.param(name, {}, id=name, marks=[] if name in QUICK else [pytest.mark.slow])
         for name in resattn.list_models()]
CASES += [pytest.param("attention56_cifar", kw, id="-".join(f"{k}={v}" for k, v in kw.items())) for kw in ABLATIONS]

EXPORTED = ["attention56", "attentionnext56", "attention56_cifar"]
ONE_MODULE = NetSpec("cifar", 16, (StageSpec(32, 1, 1, 1, 2),))
EXPORT_CASES = [pytest.param(name, {}, id=name, marks=[] if name.endswith("_cifar") else [pytest.mark.slow])
                for name in EXPORTED]
EXPORT_CASES += [pytest.param(ONE_MODULE, dict(mask_act=act), id=f"one_module-mask_act={act}")
                 for act in ("spatial", "channel")]


def _model(name: str | NetSpec, kwargs: dict) -> torch.nn.Module:
    if isinstance(name, NetSpec):
        return ResidualAttentionNet(name, num_classes=5, **kwargs)
    return resattn.create_model(name, num_classes=5, **kwargs)


def _calibrated(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` in eval mode with BN statistics measured on random images (not on the tiny test inputs, whose 1x1
    maps give statistics of two values)."""
    side = _unmasked_side(model)
    x = torch.randn(4, 3, side, side)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for bn in bns:
        bn.momentum = None  # cumulative average: after one batch, that batch's statistics
    with torch.no_grad():
        model.train()(x)
    for bn in bns:
        bn.momentum = 0.1
    return model.eval()


def _smallest(model: torch.nn.Module, batch: int = 2) -> torch.Tensor:
    side = model.min_input_size
    return torch.randn(batch, 3, side, side + 1)  # non-square: swapped axes fail


def _unmasked_side(model: torch.nn.Module) -> int:
    """The smallest side at which no soft mask's lowest map is 1x1. torch.export specialises the align-corners
    interpolation of a 1-pixel map (its scale is 0), so a program exported there takes only such sizes."""
    return 63 if model.spec.stem == "imagenet" else 16


def _close(got: torch.Tensor, want: torch.Tensor) -> None:
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4 * max(1.0, want.abs().max().item()))


@pytest.mark.parametrize("name, kwargs", CASES)
def test_fx_feature_extraction_and_torchscript(name, kwargs):
    """A symbolically traced graph, a torchvision feature extractor and a scripted module give the eager model's
    outputs, and each keeps the input check (a leaf of the graph, not traced away)."""
    from torchvision.models.feature_extraction import create_feature_extractor

    model = _calibrated(_model(name, kwargs))
    x, too_small = _smallest(model), torch.randn(1, 3, model.min_input_size - 1, 40)
    with torch.no_grad():
        want = model(x)
        want_features = model.forward_intermediates(x, intermediates_only=True)

        graph = torch.fx.symbolic_trace(model)
        _close(graph(x), want)
        with pytest.raises(ValueError, match="too small"):
            graph(too_small)

        nodes = {info["module"]: info["module"] for info in model.feature_info}
        features = create_feature_extractor(model, return_nodes=nodes)(x)
        assert list(features) == list(nodes)
        for feat, ref in zip(features.values(), want_features, strict=True):
            _close(feat, ref)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit.script is deprecated, not gone
            scripted = torch.jit.script(model)
        # Unoptimised execution runs the compiled graph as written, without the profiling runs that optimise it.
        with torch.jit.optimized_execution(False):
            _close(scripted(x), want)
            with pytest.raises(torch.jit.Error, match="too small"):
                scripted(too_small)


@pytest.mark.parametrize("name, kwargs", EXPORT_CASES)
def test_torch_export_and_onnx_dynamic_batch_and_size(name, kwargs):
    """One program with symbolic batch, height and width; its ONNX translation runs in onnxruntime."""
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    model = _model(name, kwargs)
    side = _unmasked_side(model)
    example = torch.randn(2, 3, side, side + 2)
    dims = {0: torch.export.Dim("batch", min=1), 2: torch.export.Dim.DYNAMIC, 3: torch.export.Dim.DYNAMIC}
    program = torch.export.export(_calibrated(model), (example,), dynamic_shapes=(dims,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        onnx_program = torch.onnx.export(program, dynamo=True, verbose=False)
    session = ort.InferenceSession(onnx_program.model_proto.SerializeToString(), providers=["CPUExecutionProvider"])
    for x in (torch.randn(1, 3, side, side), torch.randn(3, 3, side + 9, side + 4)):  # odd and non-square
        with torch.no_grad():
            want = model(x)
            _close(program.module()(x), want)
        (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
        _close(torch.from_numpy(got), want)


def test_every_registered_model_repeats_an_exported_one():
    """Same stem and unit type as an exported model, and no mask with a pooling count that model lacks."""

    def blocks(spec: NetSpec) -> tuple[str, str, set[int]]:
        return spec.stem, spec.unit, {s.num_pools for s in spec.stages if s.modules}

    exported = [blocks(resattn.models.NET_SPECS[name]) for name in EXPORTED]
    for name, spec in resattn.models.NET_SPECS.items():
        stem, unit, pools = blocks(spec)
        assert any(stem == s and unit == u and pools <= p for s, u, p in exported), name
