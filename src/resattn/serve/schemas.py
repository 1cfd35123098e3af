"""The JSON API's shapes, for validation of what the server answers and for its OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorResponse(BaseModel):
    detail: str = Field(description="one line saying what was wrong with the request")


class Prediction(BaseModel):
    label: str = Field(description="class name (the class index where the model has no names)")
    index: int
    prob: float = Field(description="softmax probability, 0 to 1")


class PredictResponse(BaseModel):
    predictions: list[Prediction] = Field(description="the top-k classes, most probable first")


class MaskStats(BaseModel):
    mean: float = Field(description="mean of M over channels and positions")
    std: float
    frac_outside: float = Field(description="fraction of the values of M outside [0.3, 0.7]")
    contrast_median: float = Field(description="median over channels of the spatial std of M; below "
                                               "flat_threshold the mask is flat (it no longer says where to look)")
    contrast_q25: float
    contrast_q75: float
    min: float
    max: float


class ModuleMasks(BaseModel):
    name: str = Field(description="the Attention Module, e.g. stages.0.blocks.1")
    stage: str
    shape: list[int] = Field(description="(C, H, W) of its soft mask M")
    drawn_min: float = Field(description="lowest value of the drawn map (M reduced over channels)")
    drawn_max: float
    stats: MaskStats
    flat: bool = Field(description="contrast_median < flat_threshold")
    mask_png: str = Field(description="data: URL of a PNG, the map coloured on the fixed mask_scale")
    overlay_png: str = Field(description="data: URL of a PNG, the coloured map over the input at opacity 0.5")


class MasksResponse(PredictResponse):
    input_png: str = Field(description="data: URL of a PNG, the input as the model saw it (normalisation undone)")
    reduction: str = Field(description="how the channels of M were reduced to one map: mean or max")
    mask_scale: list[float] = Field(description="the one colour scale of every map: [low, high]")
    colormap: str
    flat_threshold: float
    stage_contrast: dict[str, float] = Field(description="median spatial contrast per stage")
    flat_stages: list[str]
    modules: list[ModuleMasks] = Field(description="every Attention Module, in forward order")


class InputInfo(BaseModel):
    in_chans: int
    size: int = Field(description="the model's input is size x size")
    preset: str = Field(description="the preprocessing preset (as `resattn predict`)")
    mean: list[float]
    std: list[float]
    hint: str | None = Field(description="what the training images looked like")


class ModuleInfo(BaseModel):
    name: str
    stage: str
    shape: list[int]


class LimitsInfo(BaseModel):
    max_body_bytes: int
    max_pixels: int
    max_waiting: int


class ModelInfo(BaseModel):
    name: str
    dataset: str | None
    weights: str = Field(description="where the weights come from")
    classes: list[str]
    input: InputInfo
    modules: list[ModuleInfo]
    mask_scale: list[float]
    colormap: str
    flat_threshold: float
    outside_band: list[float]
    reductions: list[str]
    workers: int
    fast_predict: bool
    limits: LimitsInfo
    examples: list[str] = Field(description="URLs of the bundled example images")
