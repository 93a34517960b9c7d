"""Who may work when: the titular/adjoint rules and per-request hard requirements.

An adjoint works *alongside* a named titular (CDOM authorisation), so an
adjoint session only counts where the titular is on duty the same day with
overlapping hours, and only within the authorisation dates; the usable span
is clipped to the overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

from scheduler.model import Instance, Practitioner, Session, SessionKind, Status


@dataclass(frozen=True)
class Duty:
    """A usable span of one practitioner for one modality, after the adjoint rules."""

    practitioner: Practitioner
    start: int
    end: int


def add_adjoint_rule(
    instance: Instance, practitioner: Practitioner, session: Session
) -> tuple[Session | None, str | None]:
    """Clip an adjoint's session to their titular's presence; return (session, why-not)."""
    if practitioner.status == Status.TITULAR:
        return session, None
    if not practitioner.authorised_on(instance.day):
        return None, "adjoint_outside_authorisation"
    try:
        instance.practitioner(practitioner.titular_id or "")
    except KeyError:
        return None, "adjoint_titular_unknown"
    best: Session | None = None
    for other in instance.sessions_of(practitioner.titular_id or ""):
        if session.overlap(other) > 0 and (
            best is None or session.overlap(other) > session.overlap(best)
        ):
            best = other
    if best is None:
        return None, "adjoint_without_titular"
    start, end = max(session.start, best.start), min(session.end, best.end)
    return Session(session.practitioner_id, session.kind, start, end), None


def duties(instance: Instance, kind: SessionKind) -> tuple[list[Duty], dict[str, str]]:
    """Usable spans for ``kind`` and, for each practitioner left out, the reason.

    A practitioner with several sessions of the kind gets the span from the
    first start to the last end (home-visit rounds are one session a morning).
    """
    usable: list[Duty] = []
    excluded: dict[str, str] = {}
    for p in instance.practitioners:
        spans: list[Session] = []
        reason: str | None = "no_session"
        for s in instance.sessions_of(p.id, kind):
            clipped, why = add_adjoint_rule(instance, p, s)
            if clipped is not None:
                spans.append(clipped)
            else:
                reason = why
        if not spans:
            excluded[p.id] = reason or "no_session"
            continue
        usable.append(Duty(p, min(s.start for s in spans), max(s.end for s in spans)))
    return usable, excluded


def session_spans(instance: Instance, kind: SessionKind) -> tuple[list[Session], dict[str, str]]:
    """Every usable session of ``kind`` separately (teleconsultation slots need them all)."""
    spans: list[Session] = []
    excluded: dict[str, str] = {}
    for p in instance.practitioners:
        reason: str | None = "no_session"
        for s in instance.sessions_of(p.id, kind):
            clipped, why = add_adjoint_rule(instance, p, s)
            if clipped is not None:
                spans.append(clipped)
            else:
                reason = why
        if not any(s.practitioner_id == p.id for s in spans):
            excluded[p.id] = reason or "no_session"
    return spans, excluded
