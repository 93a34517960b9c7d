"""HTTP routes of the sas domain: the /fhir surface for the SAS and the regulator's pages."""

from fastapi import APIRouter

from app.sas.fhir import fhir_router
from app.sas.pages import pages_router

router = APIRouter()
router.include_router(fhir_router)
router.include_router(pages_router)
