"""The API for HR systems, under ``/api/v1``: one board's data per token."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

router = APIRouter(prefix="/api/v1")


def install(portal: FastAPI) -> None:
    portal.include_router(router)
