"""The GP's routes: /api/me (agenda, availability, outcomes, calendar links), /ical, /medecin.

The FHIR read access for GP software is ``fhir_router`` (``/fhir/agenda/...``); its errors
are OperationOutcomes through the SAS domain's /fhir error handlers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.routing import APIRoute

from app.accounts.dependencies import STAFF, CurrentUser, require_roles
from app.accounts.models import Role, User
from app.appointments.dependencies import BookingContextDep
from app.appointments.schemas import AppointmentOut
from app.core.clock import NowDep
from app.core.db import SessionDep
from app.core.errors import DomainError, Forbidden
from app.core.timeutil import PARIS
from app.gp import absences as absences_service
from app.gp import availability as availability_service
from app.gp import fhir as gp_fhir
from app.gp import ical as ical_service
from app.gp import outcomes as outcomes_service
from app.gp import service as gp_service
from app.gp.pages import pages_router
from app.gp.schemas import (
    AbsenceDeclarationIn,
    AbsenceDeclarationOut,
    AgendaOut,
    IcalFeedIn,
    IcalFeedOut,
    OutcomeIn,
    OutcomeOut,
)
from app.gp.travel import travel_provider
from app.practitioners.schemas import SessionIn, SessionOut, SessionTemplateIn, SessionTemplateOut
from app.sas.outcome import FhirError, operation_outcome

router = APIRouter()
api = APIRouter(
    prefix="/api/me",
    tags=["gp"],
    dependencies=[
        require_roles(
            Role.practitioner,
            *gp_service.MANAGERS,
            own="médecin : son propre agenda ; coordination : le médecin désigné (practitioner_id)",
        )
    ],
)


@api.get("/agenda", response_model=AgendaOut)
async def get_agenda(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    date_from: dt.date | None = Query(default=None, alias="from"),
    date_to: dt.date | None = Query(default=None, alias="to"),
    practitioner_id: int | None = None,
) -> Any:
    """The day (or days) in order: sessions, appointments, rounds with windows and travel."""
    practitioner = await gp_service.practitioner_for(
        session=session, user=user, practitioner_id=practitioner_id
    )
    first = date_from or now.astimezone(PARIS).date()
    return await gp_service.agenda(
        session=session,
        practitioner=practitioner,
        date_from=first,
        date_to=date_to or first,
        actor=user,
        travel=travel_provider(request),
        visit_minutes=request.app.state.settings.home_visit_minutes,
    )


@api.post("/templates", response_model=SessionTemplateOut, status_code=201)
async def add_template(
    template_in: SessionTemplateIn,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    practitioner_id: int | None = None,
) -> Any:
    """A weekly session (an adjoint: only on the titular's days)."""
    practitioner = await gp_service.practitioner_for(
        session=session, user=user, practitioner_id=practitioner_id
    )
    return await availability_service.add_template(
        session=session,
        practitioner=practitioner,
        template_in=template_in,
        today=now.astimezone(PARIS).date(),
        horizon_days=request.app.state.settings.session_horizon_days,
    )


@api.get("/sessions", response_model=list[SessionOut])
async def list_sessions(
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    date_from: dt.date | None = Query(default=None, alias="from"),
    date_to: dt.date | None = Query(default=None, alias="to"),
    practitioner_id: int | None = None,
) -> Any:
    """Declared sessions (cancelled ones too, flagged), a week from today by default."""
    practitioner = await gp_service.practitioner_for(
        session=session, user=user, practitioner_id=practitioner_id
    )
    first = date_from or now.astimezone(PARIS).date()
    return await availability_service.list_sessions(
        session=session,
        practitioner=practitioner,
        date_from=first,
        date_to=date_to or first + dt.timedelta(days=6),
    )


@api.post("/sessions", response_model=SessionOut, status_code=201)
async def add_session(
    session_in: SessionIn,
    session: SessionDep,
    user: CurrentUser,
    practitioner_id: int | None = None,
) -> Any:
    """A one-off session (an adjoint: only while the titular is on duty)."""
    practitioner = await gp_service.practitioner_for(
        session=session, user=user, practitioner_id=practitioner_id
    )
    return await availability_service.add_session(
        session=session, practitioner=practitioner, session_in=session_in
    )


@api.post("/absences", response_model=AbsenceDeclarationOut, status_code=201)
async def declare_absence(
    declaration: AbsenceDeclarationIn,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    ctx: BookingContextDep,
    practitioner_id: int | None = None,
) -> Any:
    """An absence; over booked appointments: refused, or `on_conflict=reassign|cancel`."""
    practitioner = await gp_service.practitioner_for(
        session=session, user=user, practitioner_id=practitioner_id
    )
    return await absences_service.declare_absence(
        session=session,
        practitioner=practitioner,
        declaration=declaration,
        actor=user,
        ctx=ctx,
        planner=getattr(request.app.state, "rounds_planner", None),
    )


@api.post("/appointments/{appointment_id}/outcome", response_model=OutcomeOut)
async def record_outcome(
    appointment_id: int,
    outcome_in: OutcomeIn,
    session: SessionDep,
    user: CurrentUser,
    ctx: BookingContextDep,
) -> Any:
    """Seen or absent, the act and its surcharges, the wish for a médecin traitant."""
    return await outcomes_service.record_outcome(
        session=session, appointment_id=appointment_id, outcome_in=outcome_in, actor=user, ctx=ctx
    )


@api.post(
    "/appointments/{appointment_id}/outcome/undo",
    response_model=AppointmentOut,
    responses={409: {"description": "Pas l'auteur de l'issue, ou plus le jour même"}},
)
async def undo_outcome(
    appointment_id: int, session: SessionDep, user: CurrentUser, ctx: BookingContextDep
) -> Any:
    """Undo an outcome recorded today by the caller: the appointment is « booked » again."""
    return await outcomes_service.undo_outcome(
        session=session, appointment_id=appointment_id, actor=user, ctx=ctx
    )


#: The same undo for the secretariat, who records outcomes with /api/appointments/{id}/status.
outcome_undo = APIRouter(prefix="/api/appointments", tags=["appointments"])


@outcome_undo.post(
    "/{appointment_id}/status/undo",
    response_model=AppointmentOut,
    dependencies=[require_roles(*STAFF, Role.practitioner)],
    responses={409: {"description": "Pas l'auteur de l'issue, ou plus le jour même"}},
)
async def undo_status(
    appointment_id: int, session: SessionDep, user: CurrentUser, ctx: BookingContextDep
) -> Any:
    """Undo an outcome recorded today by the caller (same rule as /api/me/…/outcome/undo)."""
    return await outcomes_service.undo_outcome(
        session=session, appointment_id=appointment_id, actor=user, ctx=ctx
    )


def _feed_out(feed: Any, request: Request, token: str | None = None) -> IcalFeedOut:
    out = IcalFeedOut.model_validate(feed)
    if token:
        base = request.app.state.settings.public_base_url.rstrip("/")
        out.url = f"{base}/ical/{token}.ics"
    return out


@api.get("/ical-feeds", response_model=list[IcalFeedOut])
async def list_feeds(
    request: Request, session: SessionDep, user: CurrentUser, practitioner_id: int | None = None
) -> Any:
    practitioner = await gp_service.practitioner_for(
        session=session, user=user, practitioner_id=practitioner_id
    )
    feeds = await ical_service.list_feeds(session=session, practitioner=practitioner)
    return [_feed_out(f, request) for f in feeds]


@api.post("/ical-feeds", response_model=IcalFeedOut, status_code=201)
async def create_feed(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    feed_in: IcalFeedIn | None = None,
    practitioner_id: int | None = None,
) -> Any:
    """A private calendar URL to subscribe to (shown once: keep it private)."""
    practitioner = await gp_service.practitioner_for(
        session=session, user=user, practitioner_id=practitioner_id
    )
    feed, token = await ical_service.create_feed(
        session=session,
        practitioner=practitioner,
        actor=user,
        label=(feed_in or IcalFeedIn()).label,
    )
    return _feed_out(feed, request, token)


@api.delete("/ical-feeds/{feed_id}", response_model=IcalFeedOut)
async def revoke_feed(
    feed_id: int,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    practitioner_id: int | None = None,
) -> Any:
    practitioner = await gp_service.practitioner_for(
        session=session, user=user, practitioner_id=practitioner_id
    )
    feed = await ical_service.revoke_feed(
        session=session, practitioner=practitioner, feed_id=feed_id, actor=user, now=now
    )
    return _feed_out(feed, request)


ical = APIRouter(tags=["gp"])


@ical.get("/ical/{token}.ics", response_class=Response)
async def ical_feed(token: str, request: Request, session: SessionDep, now: NowDep) -> Response:
    """The private calendar feed (text/calendar); 404 once revoked."""
    body = await ical_service.feed(
        session=session,
        token=token,
        now=now,
        base_url=request.app.state.settings.public_base_url,
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300", "X-Robots-Tag": "noindex"},
    )


# --- FHIR for GP software ---------------------------------------------------------------


class FhirRoute(APIRoute):
    """Every refusal on these routes is an OperationOutcome, with or without the SAS wiring."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def outcome_on_error(request: Request) -> Response:
            try:
                return await handler(request)
            except FhirError as exc:
                return _fhir(exc.outcome, exc.status_code)
            except DomainError as exc:
                code = {401: "login", 403: "security", 404: "not-found"}.get(
                    exc.status_code, "invalid"
                )
                return _fhir(operation_outcome(exc.message, code=code), exc.status_code)

        return outcome_on_error


def _fhir(content: dict[str, Any], status_code: int = 200) -> Response:
    return Response(
        json.dumps(content, ensure_ascii=False, default=str),
        status_code=status_code,
        media_type=gp_fhir.FHIR_JSON,
    )


fhir_router = APIRouter(prefix="/fhir/agenda", tags=["gp-fhir"], route_class=FhirRoute)


async def _fhir_practitioner(session: Any, user: User) -> Any:
    if user.role != Role.practitioner:
        raise Forbidden("Accès FHIR réservé aux médecins, pour leur propre agenda.")
    return await gp_service.practitioner_for(session=session, user=user, practitioner_id=None)


def _base(request: Request) -> str:
    return f"{request.app.state.settings.public_base_url.rstrip('/')}/fhir/agenda"


def _view(request: Request, practitioner: Any) -> Any:
    agenda_url = f"{request.app.state.settings.public_base_url.rstrip('/')}/medecin"
    return gp_fhir.practitioner_view(practitioner, agenda_url)


def _cpts(request: Request) -> Any:
    return request.app.state.gp_cpts


@fhir_router.get("/Schedule")
async def fhir_schedule(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    practitioner = await _fhir_practitioner(session, user)
    return _fhir(
        gp_fhir.schedule_bundle(
            view=_view(request, practitioner),
            cpts=_cpts(request),
            base_url=_base(request),
            self_url=str(request.url),
        )
    )


@fhir_router.get("/Slot")
async def fhir_slots(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    start: list[str] = Query(default=[]),
    status: str = "free",
) -> Response:
    practitioner = await _fhir_practitioner(session, user)
    if status != "free":
        raise gp_fhir.SearchParamError("Seuls les créneaux libres (status=free) sont publiés.")
    first, last = gp_fhir.search_range(start, param="start", now=now)
    return _fhir(
        await gp_fhir.slot_bundle(
            session=session,
            practitioner=practitioner,
            view=_view(request, practitioner),
            cpts=_cpts(request),
            start=first,
            end=last,
            now=now,
            base_url=_base(request),
            self_url=str(request.url),
        )
    )


@fhir_router.get("/Appointment")
async def fhir_appointments(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    date: list[str] = Query(default=[]),
    status: str | None = None,
) -> Response:
    practitioner = await _fhir_practitioner(session, user)
    first, last = gp_fhir.search_range(date, param="date", now=now)
    return _fhir(
        await gp_fhir.appointment_bundle(
            session=session,
            practitioner=practitioner,
            view=_view(request, practitioner),
            start=first,
            end=last,
            statuses=set(status.split(",")) if status else None,
            actor=user,
            base_url=_base(request),
            self_url=str(request.url),
        )
    )


router.include_router(api)
router.include_router(outcome_undo)
router.include_router(ical)
router.include_router(pages_router)
router.include_router(fhir_router)
