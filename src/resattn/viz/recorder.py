"""Read the soft masks M of a Residual Attention Network during a forward pass (paper Fig. 1).

Every soft-mask branch ends in a :class:`~resattn.layers.soft_mask.MaskActivation` module (``...mask.head.act``)
whose output is the mask M at the trunk's resolution. :class:`MaskRecorder` hooks those modules for as long as it is
attached and keeps the masks of the last forward pass; removing it leaves the model as it was.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.hooks import RemovableHandle

from ..layers.soft_mask import MaskActivation

__all__ = ["MaskRecorder", "Reduction", "mask_modules", "owner_name", "record_masks", "reduce_mask"]

Reduction = Literal["mean", "max"] | int
MASK_SUFFIX = ".mask.head.act"


def mask_modules(model: nn.Module) -> dict[str, MaskActivation]:
    """Every :class:`MaskActivation` of ``model`` by its full module name, in registration (= forward) order."""
    return {name: mod for name, mod in model.named_modules() if isinstance(mod, MaskActivation)}


def owner_name(name: str) -> str:
    """The Attention Module's name of a mask path (``stages.0.blocks.1.mask.head.act`` -> ``stages.0.blocks.1``)."""
    return name[: -len(MASK_SUFFIX)] if name.endswith(MASK_SUFFIX) else name


class MaskRecorder:
    """Records the soft masks M of a model's Attention Modules with forward hooks.

    Use it as a context manager, or call :meth:`attach` and :meth:`remove` yourself::

        with MaskRecorder(model) as rec, torch.no_grad():
            logits = model(x)
        rec.masks  # {"stages.0.blocks.1.mask.head.act": (N, C, H, W) float32, ...}

    The masks stay readable after the recorder is removed. A forward pass of the whole model first clears the masks
    of the previous one, so ``masks`` always belongs to the last pass (calling a submodule directly only overwrites
    the masks it computes).

    Args:
        model: any resattn model (or module) holding at least one ``MaskActivation``.
        modules: which masks to record (default: all). Each name is either the full path of a mask activation
            (``stages.0.blocks.1.mask.head.act``) or any module above it, e.g. an Attention Module
            (``stages.0.blocks.1``) or a whole stage (``stages.0``), which selects every mask inside it.

    Raises:
        ValueError: if the model has no soft masks, or a name is unknown or holds no mask; the message lists the
            available names.
    """

    def __init__(self, model: nn.Module, modules: Sequence[str] | None = None) -> None:
        self.model = model
        self.available = mask_modules(model)
        if not self.available:
            raise ValueError(f"{type(model).__name__} has no soft-mask branches (no MaskActivation module) to record")
        self.names = self._resolve(modules)
        self.masks: dict[str, torch.Tensor] = {}
        self._handles: list[RemovableHandle] = []

    # ------------------------------------------------------------------------------------------------- selection
    def _available_text(self) -> str:
        owners = ", ".join(owner_name(n) for n in self.available)
        return f"available: {owners} (or the full paths NAME{MASK_SUFFIX})"

    def _resolve(self, modules: Sequence[str] | None) -> list[str]:
        if modules is None:
            return list(self.available)
        if isinstance(modules, str):  # a bare string would otherwise be read as a list of one-letter names
            modules = [modules]
        if not modules:
            raise ValueError(f"No modules selected; {self._available_text()}")
        all_names = dict(self.model.named_modules())
        chosen: list[str] = []
        for name in modules:
            if name in self.available:
                found = [name]
            elif name in all_names:
                found = [n for n in self.available if n.startswith(f"{name}.") or not name]
                if not found:
                    raise ValueError(f"Module {name!r} holds no soft mask; {self._available_text()}")
            else:
                candidates = [owner_name(n) for n in self.available] + list(self.available)
                close = difflib.get_close_matches(name, candidates, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"Unknown module {name!r}; {self._available_text()}.{hint}")
            chosen += [n for n in found if n not in chosen]
        return chosen

    # ---------------------------------------------------------------------------------------------------- hooks
    @property
    def attached(self) -> bool:
        """Whether the hooks are currently registered."""
        return bool(self._handles)

    def attach(self) -> MaskRecorder:
        """Register the hooks (a no-op when already attached); returns ``self``."""
        if self.attached:
            return self
        # A pre-hook on the root marks the start of each forward pass, so masks of an earlier pass never mix in.
        self._handles.append(self.model.register_forward_pre_hook(self._clear))
        for name in self.names:
            self._handles.append(self.available[name].register_forward_hook(self._make_hook(name)))
        return self

    def remove(self) -> None:
        """Remove every hook this recorder registered; the recorded masks stay available."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def clear(self) -> None:
        """Forget the recorded masks."""
        self.masks = {}

    def _clear(self, module: nn.Module, args: tuple) -> None:
        del module, args
        self.clear()

    def _make_hook(self, name: str) -> Callable[[nn.Module, tuple, torch.Tensor], None]:
        def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
            del module, args
            # A copy, not a view: the network may reuse the buffer, and the caller should own plain float32 data
            # even when the forward ran in bf16 / fp16 autocast.
            self.masks[name] = output.detach().to(torch.float32, copy=True)

        return hook

    def __enter__(self) -> MaskRecorder:
        return self.attach()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.remove()

    def __repr__(self) -> str:
        state = "attached" if self.attached else "detached"
        return f"{type(self).__name__}({len(self.names)} masks, {state})"


def record_masks(
    model: nn.Module, x: torch.Tensor, modules: Sequence[str] | None = None
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """One forward pass without gradients; returns the model's output and its masks (see :class:`MaskRecorder`)."""
    with MaskRecorder(model, modules) as rec, torch.no_grad():
        out = model(x)
    return out, rec.masks


def reduce_mask(
    mask: torch.Tensor, reduction: Reduction = "mean", size: int | tuple[int, int] | None = None
) -> torch.Tensor:
    """One map per image from a soft mask: ``(N, C, h, w)`` -> ``(N, 1, H, W)`` float32.

    Args:
        mask: the recorded mask M, ``(N, C, h, w)``.
        reduction: "mean" or "max" over the channels, or the index of one channel (negative counts from the end).
        size: output ``(H, W)`` (or one int for a square), normally the input image's size; None keeps ``(h, w)``.

    Raises:
        ValueError: for a mask that is not 4-D, an unknown reduction or a channel index out of range.
    """
    if mask.ndim != 4:
        raise ValueError(f"Expected a mask of shape (N, C, H, W), got shape {tuple(mask.shape)}")
    mask = mask.detach().float()
    chans = mask.shape[1]
    if isinstance(reduction, bool) or not isinstance(reduction, (str, int)):
        raise ValueError(f"reduction must be 'mean', 'max' or a channel index, got {reduction!r}")
    if isinstance(reduction, int):
        if not -chans <= reduction < chans:
            raise ValueError(
                f"Channel index {reduction} is out of range for a mask with {chans} channels (0 to {chans - 1})"
            )
        idx = reduction % chans
        out = mask[:, idx : idx + 1]
    elif reduction == "mean":
        out = mask.mean(dim=1, keepdim=True)
    elif reduction == "max":
        out = mask.amax(dim=1, keepdim=True)
    else:
        raise ValueError(f"Unknown reduction {reduction!r}; use 'mean', 'max' or a channel index")
    if size is not None:
        size = (size, size) if isinstance(size, int) else tuple(size)
        if tuple(out.shape[-2:]) != size:
            # align_corners=False: each mask cell covers a block of input pixels (the trunk's stride), so cell
            # centres, not corners, should line up with the image; the network's own Caffe-style up-sampling
            # (align_corners=True) is between feature maps, not onto the image.
            out = F.interpolate(out, size=size, mode="bilinear", align_corners=False)
    return out
