"""The planner the app keeps on its state (built at startup from the rounds settings)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.rounds.planner import Planner


def get_planner(request: Request) -> Planner:
    return request.app.state.rounds_planner


PlannerDep = Annotated[Planner, Depends(get_planner)]
