"""Tiny named instances for the scheduler tests (fixed coordinates, fixed seeds)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from scheduler import Instance, Parameters, Practitioner, Session, SessionKind, Status, Visit

DAY = date(2025, 3, 4)
CACHAN = (48.7914, 2.3336)
RUNGIS = (48.7470, 2.3497)
FRESNES = (48.7558, 2.3222)
FAST = Parameters(time_limit_s=1.0, work_limit=150, seed=1)


def make_gp(pid: str, where: tuple[float, float] = CACHAN, **overrides: object) -> Practitioner:
    """A titular GP at ``where``, overridable."""
    base = Practitioner(pid, f"Dr {pid}", *where)
    return replace(base, **overrides)  # type: ignore[arg-type]


def make_adjoint(pid: str, titular: str, where: tuple[float, float] = CACHAN, **kw: object):
    """An adjoint authorised around DAY."""
    base = Practitioner(
        pid,
        f"Dr {pid}",
        *where,
        status=Status.ADJOINT,
        titular_id=titular,
        authorised_from=date(2025, 1, 1),
        authorised_until=date(2025, 6, 30),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def rounds(pid: str, start: int = 600, end: int = 780) -> Session:
    """A home-visit session, 10:00–13:00 by default."""
    return Session(pid, SessionKind.HOME_VISIT, start, end)


def tele(pid: str, start: int = 840, end: int = 960) -> Session:
    """A teleconsultation session, 14:00–16:00 by default."""
    return Session(pid, SessionKind.TELECONSULTATION, start, end)


def near(where: tuple[float, float], north_m: float = 0, east_m: float = 0) -> tuple[float, float]:
    """A point some metres north/east of ``where``."""
    return where[0] + north_m / 111_000, where[1] + east_m / 73_000


def make_visit(vid: str, where: tuple[float, float], **overrides: object) -> Visit:
    """A within-48h visit at ``where``, overridable."""
    return replace(Visit(vid, *where), **overrides)  # type: ignore[arg-type]


def make_instance(gps, sessions, visits=(), teles=()) -> Instance:  # noqa: ANN001
    """An instance on DAY."""
    return Instance(DAY, tuple(gps), tuple(sessions), tuple(visits), tuple(teles))
