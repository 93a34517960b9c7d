"""Settings of the SAS link and of the CPTS identity published to the SAS.

The section ``settings.sas`` of the root settings (:mod:`app.core.config`); the models
live in :mod:`app.core.sections` and are re-exported here for the SAS package.
"""

from __future__ import annotations

from app.core.sections import CptsIdentity, SasSettings, normalise_phone

__all__ = ["CptsIdentity", "SasSettings", "normalise_phone"]
