"""``torch.export`` programs: save / load round trip with dynamic batch, height and width."""

import pytest
import torch

from resattn.export import export_pt2, load_pt2
from resattn.models import NetSpec, ResidualAttentionNet, StageSpec


def test_pt2_round_trip_dynamic_batch_and_size(tmp_path):
    # One stage with an Attention Module of two mask poolings: the export path of every zoo net in seconds (the
    # CLI test exports a zoo net, tests/models/test_export.py captures them in memory).
    model = ResidualAttentionNet(NetSpec("cifar", 8, (StageSpec(16, 1, 1, 1, 2),)), num_classes=4).eval()
    path = export_pt2(model, tmp_path / "net.pt2", (3, 32, 32), fold_bn=True)
    program = load_pt2(path)
    module = program.module()
    for shape in [(1, 3, 32, 32), (3, 3, 45, 37)]:
        x = torch.randn(shape)
        with torch.no_grad():
            torch.testing.assert_close(module(x), model(x), rtol=1e-4, atol=1e-4)
    # Folding removed the conv-following BNs from the program: fewer batch-norm calls than the model has BNs.
    targets = [str(node.target) for node in program.graph.nodes if node.op == "call_function"]
    num_bn = sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert 0 < sum("batch_norm" in t for t in targets) < num_bn
    # The network's own input check survives as a lower bound on height and width.
    low = model.min_input_size
    assert sorted(int(r.lower) for r in program.range_constraints.values()) == [1, low, low]  # batch, H, W
    with pytest.raises(AssertionError, match=f"Guard failed: x.size\\(\\)\\[2\\] >= {low}"):
        module(torch.randn(1, 3, low - 1, 32))


def test_load_pt2_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_pt2(tmp_path / "missing.pt2")
