"""MaskRecorder and reduce_mask: every soft mask at its shape, module selection, clean detaching, reductions."""

import pytest
import torch
from torch import nn

import resattn
from resattn.viz import MaskRecorder, mask_modules, record_masks, reduce_mask

MASKS = [f"stages.{i}.blocks.1.mask.head.act" for i in range(3)]
# attention56_cifar at 16x16: stages at 16 / 8 / 4 with 64 / 128 / 256 channels
SHAPES = {MASKS[0]: (2, 64, 16, 16), MASKS[1]: (2, 128, 8, 8), MASKS[2]: (2, 256, 4, 4)}



@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return resattn.create_model("attention56_cifar").eval()


@pytest.fixture(scope="module")
def x():
    return torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="module")
def recorded(model, x):
    return record_masks(model, x)


def _hook_counts(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def test_records_every_mask_at_its_shape(recorded):
    _, masks = recorded
    assert list(masks) == MASKS
    for name, mask in masks.items():
        assert tuple(mask.shape) == SHAPES[name]
        assert mask.dtype == torch.float32 and not mask.requires_grad
        assert 0.0 <= mask.min() and mask.max() <= 1.0  # mixed attention: a sigmoid


def test_mask_is_what_the_module_fuses(model, x, recorded):
    # The recorded M must be the tensor the Attention Module multiplies into its trunk: (1 + M) * T.
    block = model.stages[0].blocks[1]
    with torch.no_grad():
        pre = block.pre(model.stages[0].blocks[0](model.stem(x)))
        expected = block.mask(pre, block.trunk(pre))
    torch.testing.assert_close(recorded[1][MASKS[0]], expected)


def test_remove_leaves_model_exactly_as_it_was(model, x):
    with torch.no_grad():
        before = model(x)
    assert _hook_counts(model) == 0
    rec = MaskRecorder(model).attach()
    rec.attach()  # idempotent: one pre-hook on the root and one hook per mask, never twice
    assert rec.attached and _hook_counts(model) == 1 + len(MASKS)
    with torch.no_grad():
        during = model(x)
    rec.remove()
    assert not rec.attached
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    with torch.no_grad():
        after = model(x)
    assert torch.equal(before, during) and torch.equal(before, after)
    assert list(rec.masks) == MASKS  # readable after removal


def test_context_manager_removes_hooks_on_error(model, x):
    with pytest.raises(RuntimeError, match="boom"), MaskRecorder(model):
        assert _hook_counts(model) > 0
        raise RuntimeError("boom")
    assert _hook_counts(model) == 0


def test_masks_belong_to_the_last_forward(model, x):
    with MaskRecorder(model, ["stages.2.blocks.1"]) as rec, torch.no_grad():
        model(x)
        model(x[:1])
    assert list(rec.masks) == [MASKS[2]] and rec.masks[MASKS[2]].shape[0] == 1
    with torch.no_grad():
        model(x)
    assert rec.masks[MASKS[2]].shape[0] == 1  # detached: nothing more recorded


def test_masks_are_float32_under_autocast(model, x):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        _, masks = record_masks(model, x, ["stages.2"])
    assert masks[MASKS[2]].dtype == torch.float32


@pytest.mark.parametrize(
    "modules, expected",
    [
        (["stages.1.blocks.1"], [MASKS[1]]),  # the Attention Module
        ([MASKS[0]], [MASKS[0]]),  # the full MaskActivation path
        (["stages.2"], [MASKS[2]]),  # a whole stage
        (["stages.1.blocks.1.mask"], [MASKS[1]]),
        (["stages.2.blocks.1", MASKS[0], "stages.2"], [MASKS[2], MASKS[0]]),  # given order, no duplicates
        ("stages.0.blocks.1", [MASKS[0]]),  # one bare string
    ],
)
def test_module_selection(model, modules, expected):
    rec = MaskRecorder(model, modules)
    assert rec.names == expected
    with rec:
        assert _hook_counts(model) == 1 + len(expected)


@pytest.mark.parametrize(
    "modules, message",
    [
        (["stages.0.block.1"], r"Unknown module 'stages.0.block.1'.*stages.0.blocks.1, stages.1.blocks.1, "
                               r"stages.2.blocks.1.*Did you mean 'stages.0.blocks.1'"),
        (["stages.0.blocks.0"], "holds no soft mask; available: stages.0.blocks.1"),
        ([], "No modules selected; available"),
    ],
)
def test_bad_module_names_list_the_available_ones(model, modules, message):
    with pytest.raises(ValueError, match=message):
        MaskRecorder(model, modules)


def test_model_without_masks_is_refused():
    with pytest.raises(ValueError, match="no soft-mask branches"):
        MaskRecorder(nn.Sequential(nn.Conv2d(3, 4, 3)))


def test_mask_modules_finds_every_activation(model):
    assert list(mask_modules(model)) == MASKS


@pytest.mark.parametrize("reduction", ["mean", "max", 0, 5, -1])
@pytest.mark.parametrize("size", [None, (16, 16), (20, 12), 24])
def test_reduce_mask_shapes(recorded, reduction, size):
    mask = recorded[1][MASKS[1]]  # (2, 128, 8, 8)
    out = reduce_mask(mask, reduction, size)
    want = (8, 8) if size is None else ((size, size) if isinstance(size, int) else size)
    assert tuple(out.shape) == (2, 1, *want) and out.dtype == torch.float32


def test_reduce_mask_values():
    # three channels of a 2x2 mask, each non-zero at one position
    mask = torch.tensor([[[[0.0, 0.3], [0.0, 0.0]], [[0.0, 0.0], [0.6, 0.0]], [[0.0, 0.0], [0.0, 0.9]]]])
    torch.testing.assert_close(reduce_mask(mask, "mean"), torch.tensor([[[[0.0, 0.1], [0.2, 0.3]]]]))
    torch.testing.assert_close(reduce_mask(mask, "max"), torch.tensor([[[[0.0, 0.3], [0.6, 0.9]]]]))
    torch.testing.assert_close(reduce_mask(mask, 1), torch.tensor([[[[0.0, 0.0], [0.6, 0.0]]]]))
    torch.testing.assert_close(reduce_mask(mask, -1), torch.tensor([[[[0.0, 0.0], [0.0, 0.9]]]]))
    # up-sampling to 4x4 with cell centres aligned: output pixel k samples the 2x2 map at (k + 0.5) / 2 - 0.5,
    # clamped to [0, 1], i.e. at 0, 0.25, 0.75, 1; the mean map is 0.2 y + 0.1 x, so pixel (i, j) is
    # 0.2 s_i + 0.1 s_j
    expected = torch.tensor([[0.00, 0.025, 0.075, 0.10],
                             [0.05, 0.075, 0.125, 0.15],
                             [0.15, 0.175, 0.225, 0.25],
                             [0.20, 0.225, 0.275, 0.30]])
    torch.testing.assert_close(reduce_mask(mask, "mean", 4), expected.view(1, 1, 4, 4))
    torch.testing.assert_close(reduce_mask(mask.double(), "mean", (4, 2)), expected[:, [0, 3]].view(1, 1, 4, 2))
    flat = torch.full((1, 3, 4, 4), 0.25)  # bilinear up-sampling keeps a constant map constant
    torch.testing.assert_close(reduce_mask(flat, "mean", (32, 32)), torch.full((1, 1, 32, 32), 0.25))


@pytest.mark.parametrize(
    "reduction, message",
    [
        (256, r"Channel index 256 is out of range for a mask with 256 channels \(0 to 255\)"),
        (-257, "Channel index -257 is out of range"),
        ("median", "Unknown reduction 'median'"),
        (True, "reduction must be"),
    ],
)
def test_reduce_mask_errors(recorded, reduction, message):
    with pytest.raises(ValueError, match=message):
        reduce_mask(recorded[1][MASKS[2]], reduction)


def test_reduce_mask_needs_4d():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        reduce_mask(torch.zeros(3, 4, 4))
