"""HTTP routes of the outbox domain."""

from fastapi import APIRouter

router = APIRouter()
