"""One Jinja2 environment for every page: app/web/templates, then each domain's templates/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader

from app.core.timeutil import PARIS, french_date
from app.ui import formats

_APP = Path(__file__).resolve().parent.parent


def _loader() -> ChoiceLoader:
    folders = [_APP / "web" / "templates"]
    folders += sorted(p for p in _APP.glob("*/templates") if p.parent.name != "web")
    return ChoiceLoader([FileSystemLoader(str(folder)) for folder in folders])


def _local_time(value: dt.datetime | None, fmt: str = "%H:%M") -> str:
    return value.astimezone(PARIS).strftime(fmt) if value else ""


def _local_date(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(PARIS).date()
    return french_date(value)


def _local_iso(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(PARIS).date()
    return value.isoformat()


templates = Jinja2Templates(directory=str(_APP / "web" / "templates"))
templates.env.loader = _loader()
templates.env.filters["heure"] = _local_time
templates.env.filters["date_fr"] = _local_date
templates.env.filters["jour_iso"] = _local_iso
# French display formats (app/ui/formats.py): `06 12 34 56 78`, `45,00 €`, `NOM Prénom`.
templates.env.filters["telephone"] = formats.phone
templates.env.filters["euros"] = formats.euros
templates.env.globals["nom_prenom"] = formats.person_name
templates.env.filters["long_date"] = formats.long_date
templates.env.filters["clock_time"] = formats.clock_time
templates.env.filters["nombre"] = formats.number
# Delivery status of an SMS (messaging domain), as the secretariat reads it.
templates.env.globals["SMS_LABELS"] = {
    "pending": "en file d'envoi",
    "queued": "transmis à l'opérateur",
    "sent": "envoyé",
    "delivered": "délivré",
    "undelivered": "non délivré",
    "failed": "en échec",
    "skipped": "non envoyé",
}
