"""``create_model`` / ``list_models``: timm's, restricted to this zoo and with helpful errors."""

from __future__ import annotations

import difflib
import fnmatch

import timm
from torch import nn

from .specs import NET_SPECS


def list_models(filter: str = "") -> list[str]:
    """Names in the zoo, in zoo order; ``filter`` is a substring or a shell-style pattern (``"*cifar"``)."""
    if not filter:
        return list(NET_SPECS)
    pattern = filter if any(c in filter for c in "*?[") else f"*{filter}*"
    return [name for name in NET_SPECS if fnmatch.fnmatch(name, pattern)]


def check_model_name(name: str) -> str:
    """Return the architecture part of ``name`` (``arch[.tag]``) or raise a ValueError suggesting close names."""
    arch = name.split(".", 1)[0]
    if arch not in NET_SPECS:
        close = difflib.get_close_matches(arch, list(NET_SPECS), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"Unknown model {name!r}.{hint} `resattn list` prints every model.")
    return arch


def create_model(name: str, pretrained: bool = False, **kwargs) -> nn.Module:
    """Build a zoo model by name (``timm.create_model`` with a clear error for unknown names)."""
    check_model_name(name)
    return timm.create_model(name, pretrained=pretrained, **kwargs)
