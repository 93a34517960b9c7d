"""INT_R04: parse and validate the SAS slot search (``GET [base]/Slot``).

Takes the raw ``(key, value)`` pairs because ``start`` and ``_include`` repeat. Anything
wrong becomes a :class:`SearchParamError` (400 + OperationOutcome), never another exception.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from app.sas.outcome import NOT_SUPPORTED, REQUIRED, VALUE, SearchParamError
from app.sas.profiles import SYSTEM_IDNPS

PARIS = ZoneInfo("Europe/Paris")
MAX_PRACTITIONERS = 25
PRACTITIONER_PARAM = "schedule.actor:Practitioner.identifier"

INCLUDE_SCHEDULE = "Slot:schedule"
INCLUDE_ACTORS = "Schedule:actor"
INCLUDE_SERVICE = "Slot:service-type-reference"
INCLUDE_ORGANIZATION = "HealthcareService:organization"
KNOWN_INCLUDES = frozenset(
    {INCLUDE_SCHEDULE, INCLUDE_ACTORS, INCLUDE_SERVICE, INCLUDE_ORGANIZATION}
)
ALL_INCLUDES = KNOWN_INCLUDES

_DATE_RE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:T(?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?$"
)
# An unencoded "+" in the query string is decoded as a space: "…00.000 02:00".
_SPACE_OFFSET_RE = re.compile(r" (\d{2}:\d{2})$")


@dataclass(frozen=True, slots=True)
class PractitionerKey:
    """One searched practitioner: the prefixed national id and the bare RPPS/ADELI."""

    national_id: str  # "8" + RPPS or "0" + ADELI: the form we answer with
    local_id: str  # the bare RPPS (11 digits) or ADELI (9 digits)
    kind: str  # "RPPS" | "ADELI"

    @property
    def lookup_values(self) -> tuple[str, str]:
        """Both stored forms, so a query matches prefixed and unprefixed data alike."""
        return (self.national_id, self.local_id)


@dataclass(frozen=True, slots=True)
class SlotSearch:
    """A validated INT_R04 search: free slots starting in ``[start_ge, start_le]``."""

    start_ge: dt.datetime
    start_le: dt.datetime
    practitioners: tuple[PractitionerKey, ...]
    includes: frozenset[str]
    ignored: tuple[str, ...] = ()

    @property
    def rpps(self) -> tuple[str, ...]:
        return tuple(p.local_id for p in self.practitioners if p.kind == "RPPS")

    @property
    def national_ids(self) -> tuple[str, ...]:
        return tuple(p.national_id for p in self.practitioners)

    def includes_requested(self, name: str) -> bool:
        return name in self.includes


def parse_datetime(raw: str, *, upper: bool, tz: dt.tzinfo = PARIS) -> dt.datetime:
    """A FHIR date/dateTime search value as an aware datetime (no zone: ``tz``).

    A bare date used as an upper bound means the whole day.
    """
    value = _SPACE_OFFSET_RE.sub(r"+\1", raw.strip())
    match = _DATE_RE.fullmatch(value)
    if not match:
        raise ValueError(raw)
    date = dt.date.fromisoformat(match["date"])
    if match["h"] is None:
        moment = dt.datetime.combine(date, dt.time.max if upper else dt.time.min)
        return moment.replace(tzinfo=tz)
    micro = int((match["f"] or "0")[:6].ljust(6, "0"))
    moment = dt.datetime.combine(
        date, dt.time(int(match["h"]), int(match["m"]), int(match["s"] or 0), micro)
    )
    offset = match["tz"]
    if offset is None:
        return moment.replace(tzinfo=tz)
    if offset == "Z":
        return moment.replace(tzinfo=dt.UTC)
    sign = 1 if offset[0] == "+" else -1
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    if hours > 14 or minutes > 59:
        raise ValueError(raw)
    return moment.replace(tzinfo=dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes)))


def parse_practitioner_token(item: str) -> PractitionerKey:
    """``system|value`` (or a bare value) → the practitioner's key, prefixed or not."""
    system, sep, value = item.strip().partition("|")
    if not sep:
        system, value = "", system
    system, value = system.strip(), value.strip()
    if system not in ("", SYSTEM_IDNPS):
        raise SearchParamError(
            f"Système d'identifiant non pris en charge : {system!r} (attendu : {SYSTEM_IDNPS}).",
            code=NOT_SUPPORTED,
            expression=PRACTITIONER_PARAM,
        )
    if re.fullmatch(r"8\d{11}", value):
        return PractitionerKey(value, value[1:], "RPPS")
    if re.fullmatch(r"\d{11}", value):
        return PractitionerKey("8" + value, value, "RPPS")
    if re.fullmatch(r"0\d{9}", value):
        return PractitionerKey(value, value[1:], "ADELI")
    if re.fullmatch(r"\d{9}", value):
        return PractitionerKey("0" + value, value, "ADELI")
    raise SearchParamError(
        f"Identifiant de praticien non conforme : {value!r} "
        "(attendu : 8 + RPPS sur 11 chiffres, ou 0 + ADELI).",
        code=VALUE,
        expression=PRACTITIONER_PARAM,
    )


def _parse_start(values: list[str]) -> tuple[dt.datetime, dt.datetime]:
    bounds: dict[str, dt.datetime] = {}
    for raw in values:
        prefix, rest = raw[:2], raw[2:]
        if prefix not in ("ge", "le"):
            raise SearchParamError(
                f"Paramètre start non pris en charge : {raw!r} (seuls ge et le sont acceptés).",
                code=NOT_SUPPORTED,
                expression="start",
            )
        if prefix in bounds:
            raise SearchParamError(
                f"Le paramètre start={prefix}… est répété.", code=VALUE, expression="start"
            )
        try:
            bounds[prefix] = parse_datetime(rest, upper=prefix == "le")
        except ValueError:
            raise SearchParamError(
                f"Date invalide dans start : {raw!r} (format attendu : "
                "AAAA-MM-JJThh:mm:ss[.sss]+hh:mm).",
                code=VALUE,
                expression="start",
            ) from None
    for prefix, label in (("ge", "borne basse"), ("le", "borne haute")):
        if prefix not in bounds:
            raise SearchParamError(
                f"Paramètre obligatoire manquant : start={prefix}… ({label} de la recherche).",
                code=REQUIRED,
                expression="start",
            )
    if bounds["ge"] > bounds["le"]:
        raise SearchParamError(
            "La borne basse de start est postérieure à la borne haute.",
            code=VALUE,
            expression="start",
        )
    return bounds["ge"], bounds["le"]


def _parse_practitioners(values: list[str]) -> tuple[PractitionerKey, ...]:
    items = [item for value in values for item in value.split(",")]
    if not values or not any(item.strip() for item in items):
        raise SearchParamError(
            f"Paramètre obligatoire manquant : {PRACTITIONER_PARAM} (1 à "
            f"{MAX_PRACTITIONERS} identifiants system|valeur).",
            code=REQUIRED,
            expression=PRACTITIONER_PARAM,
        )
    if any(not item.strip() for item in items):
        raise SearchParamError(
            f"Identifiant de praticien vide dans {PRACTITIONER_PARAM}.",
            code=VALUE,
            expression=PRACTITIONER_PARAM,
        )
    keys = list(dict.fromkeys(parse_practitioner_token(item) for item in items))
    if len(items) > MAX_PRACTITIONERS:
        raise SearchParamError(
            f"Trop de praticiens demandés : {len(items)} (au plus {MAX_PRACTITIONERS}).",
            code="too-costly",
            expression=PRACTITIONER_PARAM,
        )
    return tuple(keys)


def parse_slot_search(params: Iterable[tuple[str, str]]) -> SlotSearch:
    """Validate an INT_R04 query given as the raw ``(key, value)`` pairs received."""
    grouped: dict[str, list[str]] = {}
    try:
        for key, value in params:
            grouped.setdefault(str(key).strip(), []).append(str(value))
    except (TypeError, ValueError):
        raise SearchParamError("Paramètres de recherche illisibles.") from None

    statuses = {v.strip() for v in grouped.get("status", []) if v.strip()}
    if not statuses:
        raise SearchParamError(
            "Paramètre obligatoire manquant : status=free.", code=REQUIRED, expression="status"
        )
    # FHIR token lists are OR-ed; we only ever hold free slots.
    if {s for v in statuses for s in v.split(",")} != {"free"}:
        raise SearchParamError(
            "Seule la recherche de créneaux libres (status=free) est prise en charge.",
            code=NOT_SUPPORTED,
            expression="status",
        )
    start_ge, start_le = _parse_start(grouped.get("start", []))
    practitioners = _parse_practitioners(grouped.get(PRACTITIONER_PARAM, []))

    includes: set[str] = set()
    ignored: list[str] = []
    for key in ("_include", "_include:iterate"):
        for value in grouped.get(key, []):
            # Lenient like FHIR's default handling: an include we do not know is ignored.
            if value.strip() in KNOWN_INCLUDES:
                includes.add(value.strip())
            else:
                ignored.append(f"{key}={value}")
    return SlotSearch(
        start_ge=start_ge,
        start_le=start_le,
        practitioners=practitioners,
        includes=frozenset(includes),
        ignored=tuple(ignored),
    )
