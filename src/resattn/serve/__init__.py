"""``resattn serve``: a local page and JSON API with the predictions and the soft masks of a model.

Needs the ``serve`` extra (``pip install "resattn[serve]"``): FastAPI, uvicorn and python-multipart.
"""

from .limits import BadRequest, Limits
from .model_service import ModelService

__all__ = ["BadRequest", "Limits", "ModelService", "create_app"]


def create_app(service: ModelService):  # FastAPI is optional: imported only when an app is made
    """The FastAPI application around ``service`` (see :mod:`resattn.serve.app`)."""
    from .app import create_app as _create_app

    return _create_app(service)
