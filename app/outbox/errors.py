"""What a handler tells the worker: try again later, or give up and show it."""

from __future__ import annotations


class TransientError(Exception):
    """5xx, 429, time-outs: retried with exponential back-off."""

    def __init__(self, reason: str, *, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PermanentError(Exception):
    """Invalid number, refused resource…: never retried, listed for the coordinator."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
