"""HTTP routes of the messaging domain."""

from fastapi import APIRouter

router = APIRouter()
