"""State-dict keys (and shapes) are public API: one golden file per family, never changed silently.

A deliberate change regenerates the files (see tests/models/golden/README) and is announced in the changelog.
"""

from pathlib import Path

import pytest

import resattn

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("name", ["attention56", "attentionnext56", "attention56_cifar", "preact_resnet164_cifar"])
def test_golden_keys(name):
    expected = (GOLDEN / f"{name}.txt").read_text().splitlines()
    actual = [f"{k} {tuple(v.shape)}" for k, v in resattn.create_model(name).state_dict().items()]
    assert actual == expected


@pytest.mark.parametrize("kwargs", [dict(attention_residual=False), dict(mask_act="channel"), dict(mask_act="spatial")])
def test_ablations_keep_the_keys(kwargs):
    """Ablation arguments change the computation, never the parameters: checkpoints move between them."""
    base = resattn.create_model("attention56_cifar").state_dict()
    other = resattn.create_model("attention56_cifar", **kwargs).state_dict()
    assert {k: v.shape for k, v in base.items()} == {k: v.shape for k, v in other.items()}
