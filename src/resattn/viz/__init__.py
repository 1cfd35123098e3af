"""Soft-mask visualisation: record the masks M of the Attention Modules and draw them (paper Fig. 1)."""

from .gradcam import default_target_layers, gradcam
from .plots import describe_mask, display_images, mask_grid
from .recorder import MaskRecorder, Reduction, mask_modules, owner_name, record_masks, reduce_mask

__all__ = [
    "MaskRecorder",
    "Reduction",
    "default_target_layers",
    "describe_mask",
    "display_images",
    "gradcam",
    "mask_grid",
    "mask_modules",
    "owner_name",
    "record_masks",
    "reduce_mask",
]
