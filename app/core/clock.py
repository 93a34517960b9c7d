"""An injectable clock: services ask the app for the time so tests can set it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock for tests and simulations; move it with `advance` or `set`."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, now: dt.datetime) -> None:
        self.now = now

    def advance(self, delta: dt.timedelta) -> None:
        self.now = self.now + delta


def current_time(request: Request) -> dt.datetime:
    """FastAPI dependency: the app's clock (real, or fixed in tests)."""
    return request.app.state.clock()


NowDep = Annotated[dt.datetime, Depends(current_time)]
