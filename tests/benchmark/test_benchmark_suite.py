"""The benchmark machinery runs and reports ratios (no timing assertions: those belong in docs/performance.md);
the fast paths it measures compute the same function as the reference path."""

import pytest
import torch

import resattn
from resattn.benchmark import activation_bytes
from resattn.benchmark.measure import checkpointed_peak_bytes
from resattn.cli import main


def test_cli_small_run_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["benchmark", "--model", "attention56_cifar", "--img-size", "32", "-b", "2", "--modes", "fp32",
                 "channels_last", "--train-batch", "4", "--memory-model", "attention56_cifar", "--warmup", "0",
                 "--repeats", "1", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "attention56_cifar / resnet50 fp32" in text and "per-MAC ratio" in text
    import json

    data = json.loads(out.read_text())
    assert [r["mode"] for r in data["inference"]] == ["fp32", "channels_last"]
    assert data["inference"][0]["ratio_vs_resnet50_fp32"] > 0
    assert data["memory"]["checkpointed_mib"] < data["memory"]["model_mib"]


def test_unknown_mode_is_clear(capsys):
    assert main(["benchmark", "--modes", "turbo", "--sections", "inference"]) == 2
    assert "turbo" in capsys.readouterr().err


def test_cuda_graph_modes_need_a_gpu(capsys):
    assert main(["benchmark", "--modes", "cudagraph", "--sections", "inference", "--device", "cpu"]) == 2
    assert "--device cuda" in capsys.readouterr().err


def test_imagenet_training_row_uses_resnet50_and_a_failing_mode_keeps_the_others(tmp_path, capsys, monkeypatch):
    from resattn.benchmark import suite

    real = suite._prepare

    def broken_bf16(model, x, mode):
        if mode == "bf16":
            raise RuntimeError("simulated capture failure")
        return real(model, x, mode)

    monkeypatch.setattr(suite, "_prepare", broken_bf16)
    results = suite.run_suite("attention56_cifar", 32, 2, ("fp32", "bf16", "channels_last"), "attention56",
                              train_batch=2, train_size=40, warmup=0, repeats=1, sections=("inference", "training"),
                              log=lambda s: None)
    assert [r["mode"] for r in results["inference"]] == ["fp32", "bf16", "channels_last"]
    assert "simulated capture failure" in results["inference"][1]["error"]
    assert results["inference"][2]["latency_ms"]["attention56_cifar"] > 0
    assert set(results["training"][0]["images_per_s"]) == {"attention56", "resnet50"}
    assert results["settings"]["train_size"] == 40


def test_activation_bytes_counts_saved_tensors():
    model = resattn.create_model("attention56_cifar")
    one, two = (activation_bytes(model, torch.randn(n, 3, 32, 32)) for n in (1, 2))
    assert two == pytest.approx(2 * one, rel=0.05)  # activations scale with the batch, parameters are left out
    assert checkpointed_peak_bytes(model, torch.randn(1, 3, 32, 32)) < one


@pytest.mark.parametrize("name", ["attention56_cifar", "attentionnext56"])
def test_fast_paths_match_reference(name):
    model = resattn.create_model(name, num_classes=10).eval()
    size = 32 if name.endswith("_cifar") else 64
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        ref = model(x)
        cl = model.to(memory_format=torch.channels_last)(x.contiguous(memory_format=torch.channels_last))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            bf = model(x.contiguous(memory_format=torch.channels_last)).float()
    torch.testing.assert_close(cl, ref, rtol=1e-4, atol=1e-4)
    assert torch.nn.functional.cosine_similarity(bf.flatten(), ref.flatten(), dim=0) > 0.99


def test_frozen_mode_computes_the_eager_function():
    # One small Attention Module (mask with two poolings) keeps inductor's compile time to seconds; freezing turns
    # the weights and BN statistics into constants and rewrites the graph around them.
    from resattn.benchmark.suite import _prepare
    from resattn.layers import AttentionModule
    from resattn.layers.units import PreActBottleneck

    module = AttentionModule(PreActBottleneck, 16, num_pools=2).eval()
    for bn in (m for m in module.modules() if isinstance(m, torch.nn.BatchNorm2d)):  # non-trivial statistics
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 16, 12, 12)
    with torch.no_grad():
        ref = module(x)
    fast, xin, amp = _prepare(module, x, "frozen")
    assert amp is None
    with torch.inference_mode(), torch.profiler.profile() as prof:
        out = fast(xin)
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4)
    if torch.backends.mkldnn.is_available():
        # Freezing took effect: only constant (frozen) weights are pre-packed into oneDNN's fused convolutions;
        # without it inductor calls the plain aten convolution with the weights as graph inputs.
        ops = {event.key for event in prof.key_averages()}
        assert any(op.startswith("mkldnn::_convolution_pointwise") for op in ops), sorted(ops)
        assert "aten::mkldnn_convolution" not in ops
    with pytest.raises(RuntimeError, match="inference"):
        fast(xin)  # grad mode on: a frozen graph cannot train
    with pytest.raises(RuntimeError, match="inference only"):
        fast.train()
    assert not fast.eval().training


def test_training_section_without_a_training_mode_says_so():
    from resattn.benchmark.suite import run_suite

    lines = []
    results = run_suite(modes=("frozen", "onnxruntime"), sections=("training",), log=lines.append)
    assert results["training"] == []
    assert any("Training skipped" in line and "compile_bf16" in line for line in lines)
