"""The model zoo. Importing this package registers every model with timm (models/registry.py)."""

from . import registry  # noqa: F401  (registers the zoo with timm)
from .factory import create_model, list_models
from .residual_attention import ResidualAttentionNet
from .specs import NET_SPECS, NetSpec, StageSpec

__all__ = ["NET_SPECS", "NetSpec", "ResidualAttentionNet", "StageSpec", "create_model", "list_models"]
