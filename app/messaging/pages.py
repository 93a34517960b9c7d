"""The public cancellation page behind the link in our SMS: no login, no health data.

``GET`` shows the appointment's date and time and asks to confirm; ``POST``
cancels, once. A forged, expired or already used link changes nothing and says so
in plain French.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.appointments.dependencies import BookingContextDep
from app.core.clock import NowDep
from app.core.db import SessionDep
from app.messaging import service as messaging_service
from app.ui.templating import templates

TEMPLATE = "messaging/cancel.html"
_STATUS = {"forged": 404, "expired": 410}


def _page(request: Request, link: messaging_service.LinkState, token: str) -> HTMLResponse:
    settings = request.app.state.telephony_settings
    context: dict[str, Any] = {
        "link": link,
        "token": token,
        "action": request.url.path,
        "cpts_name": settings.cpts_name,
        "secretariat_phone": settings.secretariat_phone,
    }
    response = templates.TemplateResponse(
        request, TEMPLATE, context, status_code=_STATUS.get(link.state, 200)
    )
    # The token is a bearer secret: keep it out of caches and of referrers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


async def cancel_page(token: str, request: Request, session: SessionDep, now: NowDep) -> Any:
    """Ask the patient to confirm the cancellation."""
    link = await messaging_service.cancel_link_state(
        session=session, token=token, signer=request.app.state.cancel_links, now=now
    )
    return _page(request, link, token)


async def cancel_confirm(
    token: str, request: Request, session: SessionDep, ctx: BookingContextDep
) -> Any:
    """The patient confirmed: cancel once (the confirmation SMS is queued by the listener)."""
    link = await messaging_service.cancel_by_link(
        session=session, token=token, signer=request.app.state.cancel_links, ctx=ctx
    )
    return _page(request, link, token)
