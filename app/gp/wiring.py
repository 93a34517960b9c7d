"""GP state on the app: calendar change tracking, the CPTS identity, FHIR routes first."""

from __future__ import annotations

from fastapi import FastAPI

from app.core.config import Settings
from app.gp import ical as ical_service


def setup(app: FastAPI, settings: Settings) -> None:
    from app.gp.router import fhir_router

    app.state.appointment_listeners.append(ical_service.on_appointment_event)
    cpts = getattr(app.state, "sas_cpts", None)
    if cpts is None:
        from app.sas.config import SasSettings

        cpts = SasSettings().cpts_identity()
    app.state.gp_cpts = cpts
    # /fhir/agenda/... must be matched before the SAS's /fhir/{rest:path} catch-all, which
    # is included earlier: put our FHIR routes at the head of the app's routes.
    before = {id(r) for r in app.router.routes}
    app.include_router(fhir_router)
    mine = [r for r in app.router.routes if id(r) not in before]
    app.router.routes[:] = mine + [r for r in app.router.routes if id(r) in before]
    mark_changed = getattr(app.router, "_mark_routes_changed", None)
    if mark_changed is not None:
        mark_changed()
