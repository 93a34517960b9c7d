"""When an outcome may be recorded, dated and undone: one rule for every surface.

The API (``POST /api/me/appointments/{id}/outcome``, ``POST /api/appointments/{id}/status``)
and the GP page all go through :func:`check_outcome_time`, called by
``appointments.service.set_outcome`` and, before any pricing, by ``gp.outcomes``.
Reimbursement rests on the feuille de soins « constatant les actes effectués » (code de la
sécurité sociale, art. R. 161-40), dated with each act: nothing may be recorded as done
before the care could have started, and the act carries the care's date.
"""

from __future__ import annotations

import datetime as dt

from app.appointments.models import Appointment, AppointmentStatus
from app.core.errors import Conflict
from app.core.timeutil import PARIS, aware

#: Default grace period before a patient may be marked absent (setting NOSHOW_GRACE_MINUTES).
DEFAULT_NOSHOW_GRACE_MINUTES = 15


def _hm(moment: dt.datetime) -> str:
    local = aware(moment).astimezone(PARIS)
    return local.strftime("%d/%m à %Hh%M")


def check_outcome_time(
    appointment: Appointment,
    status: AppointmentStatus,
    now: dt.datetime,
    grace_minutes: int = DEFAULT_NOSHOW_GRACE_MINUTES,
) -> None:
    """« Vu » from the appointment's start; « Absent » from the start plus the grace period."""
    start = aware(appointment.start_at)
    now = aware(now)
    if status == AppointmentStatus.fulfilled and now < start:
        raise Conflict(
            f"Ce rendez-vous commence le {_hm(start)} : il ne peut pas être noté « vu » "
            "avant son début.",
            code="outcome_too_early",
        )
    if status == AppointmentStatus.noshow:
        from_ = start + dt.timedelta(minutes=grace_minutes)
        if now < from_:
            raise Conflict(
                f"Le patient ne peut être noté absent qu'à partir du {_hm(from_)} "
                f"(début du rendez-vous + {grace_minutes} min de tolérance).",
                code="outcome_too_early",
            )


def care_date(appointment: Appointment, now: dt.datetime) -> dt.datetime:
    """The date of the act: the planned arrival (home visit) or the start, never later
    than the moment it is recorded (a GP seen early in the arrival window). Since the
    outcome is refused before the start, this is never before the appointment."""
    planned = aware(appointment.planned_arrival or appointment.start_at)
    return min(planned, aware(now))


def check_undo(
    *, recorded_by_id: int | None, recorded_at: dt.datetime, actor_id: int, now: dt.datetime
) -> None:
    """Only the author undoes an outcome, and only the same day (Paris time)."""
    if recorded_by_id != actor_id:
        raise Conflict("Seul l'auteur de l'issue peut l'annuler.", code="outcome_undo_not_author")
    if aware(recorded_at).astimezone(PARIS).date() != aware(now).astimezone(PARIS).date():
        raise Conflict(
            "Une issue ne peut être annulée que le jour même où elle a été enregistrée.",
            code="outcome_undo_too_late",
        )
