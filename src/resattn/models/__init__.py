"""The model zoo. Importing this package registers every model with timm."""

from . import preact_resnet, residual_attention  # noqa: F401  (registration side effects)
from .factory import create_model, list_models
from .residual_attention import NET_SPECS, NetSpec, ResidualAttentionNet, StageSpec

__all__ = ["NET_SPECS", "NetSpec", "ResidualAttentionNet", "StageSpec", "create_model", "list_models"]
