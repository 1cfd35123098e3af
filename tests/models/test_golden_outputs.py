"""Every family's logits against numbers stored by ``golden/make_golden.py`` (float64, fixed weights and input).

The stored numbers were computed once; a change to what any forward pass computes fails here, a change of layout or
kernels does not (float64 differences of summation order stay near 1e-14, far below the tolerance).
"""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from resattn.layers import AttentionModule

_PATH = Path(__file__).parent / "golden" / "make_golden.py"
_spec = importlib.util.spec_from_file_location("make_golden", _PATH)
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)

STORED = json.loads(golden.PATH.read_text())["cases"]
TOL = dict(rtol=1e-7, atol=1e-7)  # logits are O(1); a miswired branch moves them by O(0.1) or more


def test_every_case_is_stored():
    assert list(STORED) == list(golden.CASES)
    for case, spec in golden.CASES.items():
        assert STORED[case]["model"] == spec["model"] and STORED[case]["kwargs"] == spec["kwargs"]
        assert STORED[case]["input_shape"] == [golden.BATCH, 3, *spec["size"]]


@pytest.mark.parametrize("case", list(golden.CASES))
def test_logits_match_golden(case):
    expected = torch.tensor(STORED[case]["logits"], dtype=torch.float64)
    torch.testing.assert_close(golden.golden_logits(case), expected, **TOL)


def _mismatch(case, model):
    expected = torch.tensor(STORED[case]["logits"], dtype=torch.float64)
    return not torch.allclose(golden.golden_logits(case, model), expected, **TOL)


def test_a_mask_fed_from_the_trunk_fails(monkeypatch):
    """The comparison catches a soft-mask branch that reads the trunk output instead of the module's input."""

    def miswired(self, x):
        x = self.pre(x)
        trunk = self.trunk(x)
        return self.post(self.fuse(trunk, self.mask(trunk, trunk)))

    model = golden.build("attention56_cifar")  # calibrated with the right wiring; only the eval pass is miswired
    monkeypatch.setattr(AttentionModule, "forward", miswired)
    assert _mismatch("attention56_cifar", model)


def test_other_interpolation_corners_fail():
    """Bilinear up-sampling with align_corners=False (not Caffe's Interp) changes the logits beyond the tolerance."""
    case = "attention56_cifar"
    spec = dict(golden.CASES[case], kwargs=dict(align_corners=False))
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(golden.CASES, case, spec)
        model = golden.build(case)
    assert _mismatch(case, model)
