"""Analyses of trained networks (paper section 4.1)."""

from .response import relative_mean_response, stage_mean_responses

__all__ = ["relative_mean_response", "stage_mean_responses"]
