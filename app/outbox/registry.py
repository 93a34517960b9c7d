"""Handlers per topic, kept on the app (not in a module global)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI

from app.outbox.models import OutboxMessage

# A handler sends one message; it returns a result to store (e.g. the provider's id).
Handler = Callable[[OutboxMessage, FastAPI], Awaitable[dict[str, Any] | None]]


def register(app: FastAPI, topic: str, handler: Handler) -> None:
    handlers: dict[str, Handler] = app.state.outbox_handlers
    handlers[topic] = handler


def handler_for(app: FastAPI, topic: str) -> Handler | None:
    return app.state.outbox_handlers.get(topic)
