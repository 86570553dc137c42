"""The Dutch pages for people at a board, under ``/``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

router = APIRouter()


def install(portal: FastAPI) -> None:
    portal.include_router(router)
