"""Command-line interface: ``resattn <command>`` (also ``python -m resattn``)."""

from .main import main

__all__ = ["main"]
