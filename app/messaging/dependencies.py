"""Webhook authentication: a Twilio request is acted on only when its signature checks out."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.core.errors import Forbidden
from telephony import is_genuine


async def verified_twilio_params(request: Request) -> dict[str, str]:
    """The webhook's form fields, if ``X-Twilio-Signature`` signs them and the public URL.

    A missing or wrong signature answers 403 before anything is read or written.
    """
    form = await request.form()
    items = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
    state = request.app.state
    if not is_genuine(
        state.telephony,
        state.telephony_settings,
        path=request.url.path,
        query=request.url.query,
        headers=request.headers,
        params=items,
    ):
        raise Forbidden("Requête refusée : signature Twilio absente ou invalide.")
    return dict(items)


TwilioParams = Annotated[dict[str, str], Depends(verified_twilio_params)]
