"""The released Fashion-MNIST weights: load offline through timm, keep the untagged default intact, and reproduce the
test accuracy their pretrained_cfg states."""

import json
import os
import warnings

import pytest
import timm

import resattn
from resattn.cli import main
from resattn.data.fashion_mnist import SYSTEM_FASHION_MNIST_DIRS
from resattn.engine.restore import load_model
from resattn.models.released import RELEASED, WEIGHTS_DIR, warn_if_masks_flat

TAG = "attention56_cifar.fmnist"


def test_release_loads_offline_through_timm_with_its_metadata():
    model = timm.create_model(TAG, pretrained=True)
    cfg = model.pretrained_cfg
    assert cfg["file"].endswith("attention56_cifar_fmnist.safetensors") and not cfg.get("hf_hub_id")
    assert cfg["dataset"] == "fashion_mnist" and cfg["input_size"] == (1, 28, 28)
    assert cfg["test_top1"] > 94.0  # the measured number; the next test re-measures it
    assert model.num_classes == 10 and model.stem.conv.in_channels == 1
    assert len(cfg["class_names"]) == 10 and cfg["class_names"][0] == "T-shirt/top"
    assert (WEIGHTS_DIR / RELEASED[TAG]["file"]).stat().st_size < 10 * 2**20  # shipped inside the package
    assert TAG in timm.list_models(pretrained=True) and TAG in timm.list_pretrained("attention*")


def test_untagged_name_keeps_its_cifar_default():
    model = resattn.create_model("attention56_cifar")
    assert model.pretrained_cfg["input_size"] == (3, 32, 32) and not model.pretrained_cfg.get("tag")
    with pytest.raises(ValueError, match="No pretrained weights"):  # untagged: no weights, a clear error
        load_model(model="attention56_cifar", pretrained=True)


@pytest.mark.slow  # 10,000 images in fp32: about 90 s of one core
@pytest.mark.skipif(not os.path.isdir(SYSTEM_FASHION_MNIST_DIRS[0]), reason="dataset-fashion-mnist is not installed")
def test_validate_reproduces_the_released_test_accuracy(tmp_path, capsys):
    out = tmp_path / "val.json"
    assert main(["validate", "--model", TAG, "--pretrained", "--dataset", "fashion_mnist", "--split", "test",
                 "--results-file", str(out)]) == 0
    measured = json.loads(out.read_text())
    cfg = timm.create_model(TAG).pretrained_cfg
    assert measured["images"] == 10000
    # fp32 on the CPU, as recorded; 0.02 points = 2 images of slack for another CPU's summation order
    assert measured["top1"] == pytest.approx(cfg["test_top1"], abs=0.02)
    assert measured["top5"] == pytest.approx(cfg["test_top5"], abs=0.02)


def test_list_pretrained_prints_the_release(capsys):
    assert main(["list", "--pretrained"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if TAG in line)
    assert "fashion_mnist" in row and f"| {RELEASED[TAG]['test_top1']} |" in row
    health = RELEASED[TAG]["mask_health"]
    assert ("flat in " + ", ".join(health["flat_stages"]) if health["flat_stages"] else "alive in every stage") in row
    assert f"worth {health['top1_drop_spatial_mean_all']:.2f} points" in row


def test_torch_hub_loads_the_release_by_tag():
    from pathlib import Path

    import torch

    repo = Path(__file__).resolve().parents[2]
    hub = torch.hub.load(str(repo), "attention56_cifar", source="local", pretrained=True, pretrained_cfg="fmnist")
    direct = timm.create_model(TAG, pretrained=True)
    assert all(torch.equal(a, b) for a, b in zip(hub.state_dict().values(), direct.state_dict().values(), strict=True))


@pytest.mark.skipif(not os.path.isdir(SYSTEM_FASHION_MNIST_DIRS[0]), reason="dataset-fashion-mnist is not installed")
def test_mask_health_in_the_metadata_is_what_the_weights_measure():
    import torch

    from resattn.analysis.mask_health import FLAT_CONTRAST, MaskHealthMeter, stage_contrast
    from resattn.data import create_dataset, create_transform

    model = timm.create_model(TAG, pretrained=True).eval()
    stated = model.pretrained_cfg["mask_health"]
    data = create_dataset("fashion_mnist", None, "test", transform=create_transform("fashion_mnist", train=False))
    with MaskHealthMeter(model) as meter, torch.no_grad():
        for start in range(0, 1000, 250):  # 1000 of the 10,000 images the numbers were measured on
            model(torch.stack([data[i][0] for i in range(start, start + 250)]))
    measured = stage_contrast(meter.summary())
    for stage, value in stated["contrast_per_stage"].items():
        assert measured[stage] == pytest.approx(value, rel=0.3, abs=2e-4), stage
    assert sorted(s for s, v in measured.items() if v < FLAT_CONTRAST) == sorted(stated["flat_stages"])


def test_release_metadata_is_the_datasets():
    from resattn.data import FASHION_MNIST_CLASSES, FASHION_MNIST_MEAN, FASHION_MNIST_STD, dataset_info

    rel = RELEASED[TAG]
    assert rel["dataset"] == "fashion_mnist" and dataset_info(rel["dataset"])["num_classes"] == len(rel["class_names"])
    assert tuple(rel["class_names"]) == FASHION_MNIST_CLASSES
    assert (rel["mean"], rel["std"]) == (FASHION_MNIST_MEAN, FASHION_MNIST_STD)


def test_loading_weights_with_flat_masks_says_so():
    health = RELEASED[TAG]["mask_health"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        timm.create_model(TAG, pretrained=True)
        timm.create_model(TAG)  # the architecture alone: no weights, nothing to say
    messages = [str(w.message) for w in caught if "soft masks" in str(w.message)]
    if health["flat_stages"]:
        assert len(messages) == 1 and all(stage in messages[0] for stage in health["flat_stages"])
        assert f"worth {health['top1_drop_spatial_mean_all']:.2f} test points" in messages[0]
    else:
        assert messages == []


def test_the_flat_mask_warning_names_the_flat_stages_and_their_worth():
    # Independent of the weights the tag holds now: a model whose pretrained_cfg records flat stages.
    model = timm.create_model("attention56_cifar", num_classes=10, in_chans=1)
    model.pretrained_cfg = dict(architecture="attention56_cifar", tag="old", mask_health=dict(
        flat_stages=["stage2", "stage3"], top1_drop_spatial_mean_all=0.2))
    with pytest.warns(UserWarning, match=r"attention56_cifar\.old: .* flat in stage2, stage3 .* worth 0\.20 test"):
        warn_if_masks_flat(model)
    model.pretrained_cfg["mask_health"]["flat_stages"] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_masks_flat(model)
