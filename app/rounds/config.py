"""Settings of the rounds domain: solver limits, seed and the travel-time source.

The section ``settings.rounds`` of the root settings (:mod:`app.core.config`), which alone
reads the environment; the model lives in :mod:`app.core.sections`.
"""

from __future__ import annotations

from app.core.sections import RoundsSettings

__all__ = ["RoundsSettings"]
