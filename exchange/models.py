"""The exchange app's models live with their service (`exchange.das.models`); imported here so
that Django finds them."""

from exchange.das.models import DasRequest

__all__ = ["DasRequest"]
