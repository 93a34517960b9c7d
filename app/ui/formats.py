"""French display formats, one home for every page: phone numbers, euros, names, dates.

The secretariat reads `06 12 34 56 78`, `45,00 €`, `DUPONT Marie` and `vendredi 4 décembre`
(issue 22, item 7); templates use the filters registered in app/ui/templating.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from app.core.timeutil import PARIS, french_date

NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space: the thousands separator of French typography


def phone(value: str | None) -> str:
    """`+33612345678` → `06 12 34 56 78`; foreign or odd numbers are left as written."""
    if not value:
        return ""
    digits = value.replace(" ", "").replace(".", "").replace("-", "")
    if digits.startswith("+33") and len(digits) == 12 and digits[3:].isdigit():
        digits = "0" + digits[3:]
    if len(digits) == 10 and digits.isdigit() and digits.startswith("0"):
        return " ".join(digits[i : i + 2] for i in range(0, 10, 2))
    return value


def euros(value: Decimal | float | int | None) -> str:
    """`45` → `45,00 €`, `1234.5` → `1 234,50 €` (no-break spaces)."""
    if value is None:
        return ""
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    units, cents = f"{abs(amount):.2f}".split(".")
    groups: list[str] = []
    while len(units) > 3:
        groups.insert(0, units[-3:])
        units = units[:-3]
    groups.insert(0, units)
    return f"{sign}{NNBSP.join(groups)},{cents}{NBSP}€"


def number(value: object, decimals: int = 0) -> str:
    """`1234` → `1 234`, `12.5` → `12,5` (French typography); text ("<5") is left as is."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return "—" if value is None else str(value)
    text = f"{value:,.{decimals}f}" if decimals or isinstance(value, int) else f"{value:,.1f}"
    return text.replace(",", NNBSP).replace(".", ",")


def person_name(family: str | None, given: str | None) -> str:
    """One name order everywhere: `NOM Prénom`."""
    family_part = (family or "").strip().upper()
    given_part = (given or "").strip()
    return " ".join(part for part in (family_part, given_part) if part) or "—"


def long_date(value: dt.datetime | dt.date | None) -> str:
    """`vendredi 4 décembre`, the date as the secretariat says it."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(PARIS).date()
    return french_date(value)


def clock_time(value: dt.datetime | dt.time | None) -> str:
    """`14:05` in Paris time."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(PARIS)
    return value.strftime("%H:%M")
