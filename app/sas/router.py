"""HTTP routes of the sas domain."""

from fastapi import APIRouter

router = APIRouter()
