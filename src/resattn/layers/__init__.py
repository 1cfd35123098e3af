"""Building blocks: residual units, the soft-mask branch and the Attention Module."""

from .attention_module import AttentionModule
from .soft_mask import MASK_ACTIVATIONS, MASK_TYPES, EncoderDecoderMask, LocalConvMask, MaskActivation, MaskHead
from .units import UNIT_TYPES, PreActBottleneck, ResNeXtBottleneck, batch_norm

__all__ = [
    "MASK_ACTIVATIONS", "MASK_TYPES", "UNIT_TYPES", "AttentionModule", "EncoderDecoderMask", "LocalConvMask",
    "MaskActivation", "MaskHead", "PreActBottleneck", "ResNeXtBottleneck", "batch_norm",
]
