"""Every ORM model, imported once so that Alembic and the app see the whole schema."""

import importlib

from app.core import limits  # noqa: F401  (shared_limits: login and webhook counters)
from app.core.db import Base

# Each domain keeps its models in `app/<domain>/models.py`; importing them all here
# registers every table on `Base.metadata`.
DOMAINS_WITH_MODELS = (
    "practitioners",
    "accounts",
    "patients",
    "requests",
    "appointments",
    "audit",
    "outbox",
    "rounds",
    "messaging",
    "gp",
    "orientation",
    "territory",
    "waitlist",
)

for _domain in DOMAINS_WITH_MODELS:
    importlib.import_module(f"app.{_domain}.models")

__all__ = ["Base"]
