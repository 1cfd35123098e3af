"""torch.export with a dynamic batch dimension (issue 2)."""

import pytest
import torch

import resattn


@pytest.mark.parametrize("name, size", [("attention56", 224), ("attention92_cifar", 32)])
def test_torch_export_dynamic_batch(name, size):
    model = resattn.create_model(name, num_classes=10).eval()
    batch = torch.export.Dim("batch", min=1, max=64)
    program = torch.export.export(model, (torch.randn(2, 3, size, size),), dynamic_shapes=({0: batch},))
    for n in (1, 3):
        x = torch.randn(n, 3, size, size)
        with torch.no_grad():
            ref = model(x)  # eager runs the mask channels_last on the CPU, the program NCHW: float rounding differs
            scale = ref.abs().max().item()  # untrained BN statistics let logits reach ~1e2-1e3
            torch.testing.assert_close(program.module()(x), ref, rtol=1e-4, atol=1e-4 * scale)
