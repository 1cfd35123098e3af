"""The web application: the page, its assets, the JSON API and its OpenAPI docs, all served locally."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from .. import __version__
from .limits import BadRequest, BodyLimitMiddleware
from .model_service import ModelService
from .render import colorbar, png
from .schemas import ErrorResponse, MasksResponse, ModelInfo, PredictResponse
from .upload import ACCEPTED, FILE_FIELD, read_upload

STATIC = Path(__file__).parent / "static"
EXAMPLES = STATIC / "examples"
log = logging.getLogger("resattn.serve")

_ERRORS = {status: {"model": ErrorResponse, "description": text} for status, text in {
    400: "empty body, or a malformed multipart body / one without a file",
    413: "request body or image over the limits",
    415: "a Content-Type that is not multipart/form-data, image/* or application/octet-stream",
    422: "not an image, a truncated or damaged one, or a bad query parameter",
    503: "every worker busy and the waiting line full; retry shortly",
}.items()}
_UPLOAD_BODY = {"requestBody": {"required": True, "description": ACCEPTED, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": [FILE_FIELD],
                                       "properties": {FILE_FIELD: {"type": "string", "format": "binary"}}}},
    "image/*": {"schema": {"type": "string", "format": "binary"}},
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
}}}


def _one_line(err: RequestValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in err.errors()]
    return "; ".join(parts) or "invalid request"


def _docs_assets() -> Path | None:
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    return Path(str(swagger_ui_path))


def create_app(service: ModelService) -> FastAPI:
    """The application around a loaded :class:`ModelService`; it closes the service's workers at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    # FastAPI's own /docs pages load Swagger UI from a CDN: they are replaced below by one served from this app.
    app = FastAPI(title="resattn serve", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Predictions and the soft mask of every Attention Module of a Residual Attention "
                              "Network, for one image at a time. Errors are `{\"detail\": one line}`.")
    app.add_middleware(BodyLimitMiddleware, max_bytes=service.limits.max_body_bytes)
    examples = sorted(f"/static/examples/{p.name}" for p in EXAMPLES.glob("*.png"))
    bar = png(colorbar(service.lut))

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, err: BadRequest) -> JSONResponse:
        log.info("%s %s -> %d: %s", request.method, request.url.path, err.status, err.reason)
        return JSONResponse({"detail": err.reason}, status_code=err.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(err)}, status_code=422)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/colorbar.png", include_in_schema=False)
    async def colorbar_png() -> Response:
        return Response(bar, media_type="image/png")

    @app.get("/api/model", response_model=ModelInfo, summary="The model: name, classes, input spec, modules")
    async def model_info() -> dict[str, Any]:
        return dict(service.describe(), examples=examples)

    @app.post("/api/predict", response_model=PredictResponse, responses=_ERRORS, openapi_extra=_UPLOAD_BODY,
              summary="Top-k classes of one image")
    async def predict(request: Request, topk: int = Query(5, ge=1, le=1000)) -> dict[str, Any]:
        return await service.predict(await read_upload(request), topk)

    @app.post("/api/masks", response_model=MasksResponse, responses=_ERRORS, openapi_extra=_UPLOAD_BODY,
              summary="Top-k classes, the input as the model saw it, and every module's mask (PNG) and statistics")
    async def masks(request: Request, topk: int = Query(5, ge=1, le=1000),
                    reduction: Literal["mean", "max"] = Query("mean", description="channel reduction of M for the "
                                                                                  "drawn map")) -> dict[str, Any]:
        return await service.masks(await read_upload(request), topk, reduction)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _add_docs(app)
    return app


def _add_docs(app: FastAPI) -> None:
    from fastapi.openapi.docs import get_swagger_ui_html

    assets = _docs_assets()
    if assets is not None:
        app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        if assets is None:
            return HTMLResponse("<p>The interactive API docs need <code>pip install swagger-ui-bundle-v2</code> "
                                "(part of <code>resattn[serve]</code>); the schema is at "
                                "<a href='/openapi.json'>/openapi.json</a>.</p>")
        # validatorUrl null: Swagger UI would otherwise load a badge from the internet
        return get_swagger_ui_html(openapi_url="/openapi.json", title="resattn serve API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.png",
                                   swagger_ui_parameters={"validatorUrl": None})
