"""HTTP routes of the rounds domain."""

from fastapi import APIRouter

router = APIRouter()
