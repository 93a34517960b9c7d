"""HTTP routes of the indicators domain."""

from fastapi import APIRouter

router = APIRouter()
