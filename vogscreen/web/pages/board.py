"""The board's own pages: Overzicht, Geschiedenis and Ontvangers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vogscreen.domain.errors import InvalidInput, NotFound, StateConflict
from vogscreen.pipeline import board_portal
from vogscreen.pipeline.login import Principal
from vogscreen.web.pages.render import page
from vogscreen.web.session import PageNotFound, signed_in, signed_in_form, vogscreen

router = APIRouter(prefix="/besturen/{number}", include_in_schema=False)
Board = Annotated[Principal, Depends(signed_in)]
BoardForm = Annotated[Principal, Depends(signed_in_form)]


@router.get("/")
def overview(request: Request, number: str, who: Board) -> HTMLResponse:
    return page(
        request, "overview.html", overview=board_portal.overview(vogscreen(request), who.board)
    )


@router.get("/geschiedenis")
def list_history(request: Request, number: str, who: Board) -> HTMLResponse:
    lists = list(reversed(board_portal.history(vogscreen(request), who.board)))
    return page(request, "history.html", lists=lists)


@router.get("/ontvangers")
def recipients(
    request: Request, number: str, who: Board, gelukt: str | None = None
) -> HTMLResponse:
    return _recipients_page(request, who, done=gelukt)


def _recipients_page(
    request: Request,
    who: Principal,
    *,
    error: str | None = None,
    status_code: int = 200,
    done: str | None = None,
) -> HTMLResponse:
    try:
        addresses = board_portal.recipients(vogscreen(request), who.board)
    except NotFound:
        raise PageNotFound from None
    return page(
        request,
        "recipients.html",
        status=status_code,
        recipients=addresses,
        error=error,
        done=done if done in ("toegevoegd", "verwijderd") else None,
    )


@router.post("/ontvangers/toevoegen")
def add_recipient(
    request: Request, number: str, who: BoardForm, adres: Annotated[str, Form()] = ""
) -> Response:
    try:
        board_portal.add_recipient(vogscreen(request), who.board, adres, who.who)
    except InvalidInput:
        return _recipients_page(request, who, error="address", status_code=422)
    return RedirectResponse(f"/besturen/{who.board}/ontvangers?gelukt=toegevoegd", status_code=303)


@router.post("/ontvangers/verwijderen")
def remove_recipient(
    request: Request, number: str, who: BoardForm, adres: Annotated[str, Form()] = ""
) -> Response:
    try:
        board_portal.remove_recipient(vogscreen(request), who.board, adres, who.who)
    except (InvalidInput, NotFound):
        return _recipients_page(request, who, error="unknown", status_code=422)
    except StateConflict:
        return _recipients_page(request, who, error="last", status_code=409)
    return RedirectResponse(f"/besturen/{who.board}/ontvangers?gelukt=verwijderd", status_code=303)
