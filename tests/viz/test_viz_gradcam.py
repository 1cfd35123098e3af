import pytest
import torch

import resattn
from resattn.viz import default_target_layers, gradcam

pytest.importorskip("pytorch_grad_cam")



def test_gradcam_maps_at_input_size_in_unit_range():
    model = resattn.create_model("attention56_cifar", num_classes=4)
    x = torch.randn(2, 3, 32, 36)
    maps = gradcam(model, x, targets=[1, 3])
    assert maps.shape == (2, 32, 36)
    assert maps.min() >= 0 and maps.max() <= 1 + 1e-6
    assert default_target_layers(model)[0] is model.stages[-1].blocks[-1]


def test_gradcam_named_layers_and_errors():
    model = resattn.create_model("attention56_cifar", num_classes=4)
    x = torch.randn(1, 3, 32, 32)
    assert gradcam(model, x, target_layers=["stages.1"]).shape == (1, 32, 32)
    with pytest.raises(ValueError, match="Unknown target layer 'stage9'"):
        gradcam(model, x, target_layers=["stage9"])
    with pytest.raises(ValueError, match="2 targets for 1 images"):
        gradcam(model, x, targets=[0, 1])
