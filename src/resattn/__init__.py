"""resattn: Residual Attention Networks (Wang et al., CVPR 2017) for PyTorch and timm.

``import resattn`` registers every model with timm, so ``timm.create_model("attention56")`` works after it.
"""

from .models import NET_SPECS, ResidualAttentionNet, create_model, list_models

__version__ = "0.1.0"
__all__ = ["NET_SPECS", "ResidualAttentionNet", "__version__", "create_model", "list_models"]
