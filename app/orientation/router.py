"""HTTP routes of the orientation domain."""

from fastapi import APIRouter

router = APIRouter()
