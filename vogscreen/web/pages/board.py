"""The board's own pages: Overzicht, Geschiedenis and Ontvangers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vogscreen.domain.errors import InvalidInput, NotFound, StateConflict
from vogscreen.domain.statuses import SubscriptionStatus
from vogscreen.pipeline.boards import show_board, update_board
from vogscreen.pipeline.login import Principal
from vogscreen.pipeline.staff import current_staff, history
from vogscreen.pipeline.status import status
from vogscreen.runtime.bootstrap import App
from vogscreen.web.pages.render import page
from vogscreen.web.session import PageNotFound, signed_in, signed_in_form, vogscreen

router = APIRouter(prefix="/besturen/{number}", include_in_schema=False)
Board = Annotated[Principal, Depends(signed_in)]
BoardForm = Annotated[Principal, Depends(signed_in_form)]


def _overview(app: App, number: str) -> dict[str, Any]:
    staff = current_staff(app, number)
    screening = [member.screening for member in staff.members]
    board = next((b for b in status(app)["boards"] if b["number"] == number), None)
    lists = history(app, number)
    return {
        "staff": len(staff.members),
        "subscribed": screening.count(SubscriptionStatus.ACTIVE),
        "refused": screening.count(SubscriptionStatus.FAILED),
        "open_cases": board["open_cases"] if board else 0,
        "overdue_cases": None,
        "last_list": lists[-1] if lists else None,
    }


@router.get("/")
def overview(request: Request, number: str, who: Board) -> HTMLResponse:
    return page(request, "overview.html", overview=_overview(vogscreen(request), who.board))


@router.get("/geschiedenis")
def list_history(request: Request, number: str, who: Board) -> HTMLResponse:
    lists = list(reversed(history(vogscreen(request), who.board)))
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
        board = show_board(vogscreen(request), who.board)
    except NotFound:
        raise PageNotFound from None
    return page(
        request,
        "recipients.html",
        status=status_code,
        recipients=board.recipients,
        error=error,
        done=done if done in ("toegevoegd", "verwijderd") else None,
    )


@router.post("/ontvangers/toevoegen")
def add_recipient(
    request: Request, number: str, who: BoardForm, adres: Annotated[str, Form()] = ""
) -> Response:
    try:
        update_board(vogscreen(request), who.board, add_recipients=[adres])
    except InvalidInput:
        return _recipients_page(request, who, error="address", status_code=422)
    return RedirectResponse(f"/besturen/{who.board}/ontvangers?gelukt=toegevoegd", status_code=303)


@router.post("/ontvangers/verwijderen")
def remove_recipient(
    request: Request, number: str, who: BoardForm, adres: Annotated[str, Form()] = ""
) -> Response:
    app = vogscreen(request)
    if adres not in show_board(app, who.board).recipients:
        return _recipients_page(request, who, error="unknown", status_code=422)
    try:
        update_board(app, who.board, remove_recipients=[adres])
    except (InvalidInput, StateConflict):
        return _recipients_page(request, who, error="last", status_code=409)
    return RedirectResponse(f"/besturen/{who.board}/ontvangers?gelukt=verwijderd", status_code=303)
