"""HTTP routes of the gp domain."""

from fastapi import APIRouter

router = APIRouter()
