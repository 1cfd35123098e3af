"""The model behind the server: the input as ``resattn predict`` prepares it, top-k classes, and the soft mask of
every Attention Module with its health figures."""

from __future__ import annotations

import copy
import io
from dataclasses import asdict, dataclass
from typing import Any

import torch
from PIL import Image
from torch import nn

from ..analysis.mask_health import FLAT_CONTRAST, OUTSIDE, MaskHealthMeter, flat_stages, stage_contrast, stage_of
from ..cli.evaluate import model_input_spec
from ..data import dataset_info
from ..data.input_spec import InputSpec, spec_transform
from ..engine.restore import LoadedModel
from ..viz.recorder import MaskRecorder, mask_modules, owner_name, reduce_mask
from .limits import BadRequest, Limits
from .pool import WorkerPool
from .render import COLORMAP, MASK_SCALE, blend, color_mask, colormap_lut, data_url, display_image, png
from .upload import check_image, first_line

REDUCTIONS = ("mean", "max")
# What the released data sets' images look like; a photo of a garment on a white table is far from it.
INPUT_HINTS = {
    "fashion_mnist": "a light garment on a dark background, centred and filling the frame, as in Fashion-MNIST",
}


@dataclass
class Replica:
    """One worker's copy of the model, and its compiled twin for plain predictions where asked for."""

    model: nn.Module
    fast: nn.Module | None = None


class ModelService:
    """A loaded model ready to answer requests through a bounded :class:`WorkerPool`.

    Args:
        loaded: from :func:`resattn.engine.restore.load_model`.
        weights: one line saying where the weights come from (shown on the page).
        device: where the model runs.
        workers: model replicas, one per worker thread.
        spec: how an image becomes the input (default: as ``resattn predict`` prepares it for this model without
            ``--dataset``: :func:`resattn.cli.evaluate.model_input_spec`).
        limits: request limits.
        fast_predict: answer ``/api/predict`` with :func:`resattn.export.compile_frozen` (compiled at start-up;
            masks need the eager model's hooks and always run eager).
    """

    def __init__(self, loaded: LoadedModel, weights: str, device: str | torch.device = "cpu", workers: int = 1,
                 spec: InputSpec | None = None, limits: Limits | None = None, fast_predict: bool = False) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.name, self.dataset, self.weights = loaded.name, loaded.dataset, weights
        self.limits = limits or Limits()
        self.device = torch.device(device)
        model = loaded.model.to(self.device).eval()
        if not mask_modules(model):
            raise ValueError(f"{loaded.name} has no soft masks (no Attention Module) to show")
        self.spec = spec or model_input_spec(loaded, None, None)
        self.transform = spec_transform(self.spec, train=False)
        info = dataset_info(self.dataset) if self.dataset else None
        self.class_names = list(loaded.class_names or (info["class_names"] if info and info["class_names"] else []))
        self.fast_predict = fast_predict
        replicas = [model] + [copy.deepcopy(model) for _ in range(workers - 1)]
        self.replicas = [Replica(m, self._compile(m) if fast_predict else None) for m in replicas]
        self.lut = colormap_lut()
        self.modules = self._warm_up()
        self.pool = WorkerPool(self.replicas, self.limits.max_waiting)

    @staticmethod
    def _compile(model: nn.Module) -> nn.Module:
        from ..export import compile_frozen

        return compile_frozen(model)

    def _warm_up(self) -> list[dict[str, Any]]:
        """One pass per replica before the first request (compiles the fast path); returns each module's mask
        shape, which the page lists before any image arrives."""
        x = torch.zeros(1, self.spec.in_chans, self.spec.img_size, self.spec.img_size, device=self.device)
        shapes: dict[str, list[int]] = {}
        for replica in self.replicas:
            with MaskRecorder(replica.model) as rec, torch.inference_mode():
                replica.model(x)
            shapes = {name: list(m.shape[1:]) for name, m in rec.masks.items()}
            if replica.fast is not None:
                # Outside the recorder: compiled with its hooks attached, the graph would be guarded on them and
                # compiled again, at length, by the first request.
                with torch.inference_mode():
                    replica.fast(x)
        return [dict(name=owner_name(n), stage=stage_of(n), shape=s) for n, s in shapes.items()]

    # ------------------------------------------------------------------------------------------------ describe
    def describe(self) -> dict[str, Any]:
        """What ``GET /api/model`` answers."""
        return dict(name=self.name, dataset=self.dataset, weights=self.weights, classes=self.label_names(),
                    input=dict(asdict(self.spec), size=self.spec.img_size, hint=INPUT_HINTS.get(self.dataset or "")),
                    modules=self.modules, mask_scale=list(MASK_SCALE), colormap=COLORMAP,
                    flat_threshold=FLAT_CONTRAST, outside_band=list(OUTSIDE), reductions=list(REDUCTIONS),
                    workers=len(self.replicas), fast_predict=self.fast_predict,
                    limits=dict(max_body_bytes=self.limits.max_body_bytes, max_pixels=self.limits.max_pixels,
                                max_waiting=self.limits.max_waiting))

    def label_names(self) -> list[str]:
        num = self.replicas[0].model.num_classes
        return [self.class_names[i] if i < len(self.class_names) else str(i) for i in range(num)]

    # ---------------------------------------------------------------------------------------------- inference
    def preprocess(self, data: bytes) -> torch.Tensor:
        """Encoded image bytes -> the model input ``(1, C, S, S)``; :class:`BadRequest` for bad bytes."""
        check_image(data, self.limits.max_pixels)
        try:
            with Image.open(io.BytesIO(data)) as img:
                # convert() decodes every pixel now: a truncated file fails here, as a 422, not in the transform
                image = img.convert("L" if self.spec.in_chans == 1 else "RGB")
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
            raise BadRequest(422, f"the image cannot be decoded (truncated or damaged file?): {first_line(err)}"
                             ) from err
        # the transform of `resattn predict` (read_input): the same size, crop and normalisation
        return self.transform(image)[None].to(self.device)

    def top_k(self, logits: torch.Tensor, k: int) -> list[dict[str, Any]]:
        probs = logits.float().softmax(dim=1)[0]
        top = probs.topk(min(k, probs.numel()))
        names = self.label_names()
        return [dict(label=names[i], index=i, prob=p) for p, i in zip(top.values.tolist(), top.indices.tolist(),
                                                                       strict=True)]

    def _predict(self, replica: Replica, data: bytes, k: int) -> dict[str, Any]:
        x = self.preprocess(data)
        with torch.inference_mode():
            logits = (replica.fast or replica.model)(x)
        return dict(predictions=self.top_k(logits, k))

    def _masks(self, replica: Replica, data: bytes, k: int, reduction: str) -> dict[str, Any]:
        x = self.preprocess(data)
        model = replica.model
        with MaskRecorder(model) as rec, MaskHealthMeter(model) as meter, torch.inference_mode():
            logits = model(x)
        health = meter.summary()
        image = display_image(x[0], self.spec.mean, self.spec.std)
        modules = []
        for name, mask in rec.masks.items():
            owner = owner_name(name)
            stats = dict(health[owner], min=mask.min().item(), max=mask.max().item())
            drawn = reduce_mask(mask, reduction, size=x.shape[-2:])[0, 0]
            colors = color_mask(drawn, self.lut)
            modules.append(dict(name=owner, stage=stats.pop("stage"), shape=list(mask.shape[1:]),
                                drawn_min=drawn.min().item(), drawn_max=drawn.max().item(), stats=stats,
                                flat=stats["contrast_median"] < FLAT_CONTRAST, mask_png=data_url(png(colors)),
                                overlay_png=data_url(png(blend(image, colors)))))
        contrast = stage_contrast(health)
        return dict(predictions=self.top_k(logits, k), input_png=data_url(png(image)), reduction=reduction,
                    mask_scale=list(MASK_SCALE), colormap=COLORMAP, flat_threshold=FLAT_CONTRAST,
                    stage_contrast=contrast, flat_stages=flat_stages(contrast), modules=modules)

    async def predict(self, data: bytes, k: int = 5) -> dict[str, Any]:
        return await self.pool.run(self._predict, data, k)

    async def masks(self, data: bytes, k: int = 5, reduction: str = "mean") -> dict[str, Any]:
        if reduction not in REDUCTIONS:
            raise BadRequest(422, f"reduction must be one of {', '.join(REDUCTIONS)}, got {reduction!r}")
        return await self.pool.run(self._masks, data, k, reduction)

    def close(self) -> None:
        self.pool.shutdown()
