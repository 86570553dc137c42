"""Wachtende lijst and Zaken: the board decides a held list, and resolves its cases."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vogscreen.domain.errors import InvalidInput, NotFound, StateConflict
from vogscreen.domain.statuses import CaseOutcome, CaseStatus
from vogscreen.pipeline import board_portal
from vogscreen.pipeline.login import Principal
from vogscreen.web.names import RowId
from vogscreen.web.pages.render import language_of, page
from vogscreen.web.session import PageNotFound, signed_in, signed_in_form, vogscreen

router = APIRouter(prefix="/besturen/{number}", include_in_schema=False)
Board = Annotated[Principal, Depends(signed_in)]
BoardForm = Annotated[Principal, Depends(signed_in_form)]


def _held(request: Request, who: Principal, staff_list_id: int) -> dict[str, Any]:
    try:
        return board_portal.held_list(
            vogscreen(request), who.board, staff_list_id, language_of(request)
        )
    except NotFound:
        raise PageNotFound from None


def _held_page(
    request: Request,
    who: Principal,
    staff_list_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    held = _held(request, who, staff_list_id)
    return page(request, "held.html", status=status, held=held, error=error)


@router.get("/wachtend/{staff_list_id}")
def held_list(request: Request, number: str, staff_list_id: RowId, who: Board) -> HTMLResponse:
    return _held_page(request, who, staff_list_id)


@router.post("/wachtend/{staff_list_id}/bevestigen")
def confirm_held(request: Request, number: str, staff_list_id: RowId, who: BoardForm) -> Response:
    return _decide(request, who, staff_list_id, confirm=True, reason="")


@router.post("/wachtend/{staff_list_id}/afwijzen")
def reject_held(
    request: Request,
    number: str,
    staff_list_id: RowId,
    who: BoardForm,
    reden: Annotated[str, Form()] = "",
) -> Response:
    if not reden.strip():
        return _held_page(request, who, staff_list_id, error="reason", status=422)
    return _decide(request, who, staff_list_id, confirm=False, reason=reden)


def _decide(
    request: Request, who: Principal, staff_list_id: int, *, confirm: bool, reason: str
) -> Response:
    try:
        board_portal.decide_held(
            vogscreen(request),
            who.board,
            staff_list_id,
            confirm=confirm,
            reason=reason,
            who=who.who,
        )
    except NotFound:
        raise PageNotFound from None
    except StateConflict:
        return _held_page(request, who, staff_list_id, error="decided", status=409)
    except InvalidInput:
        return _held_page(request, who, staff_list_id, error="reason", status=422)
    done = "bevestigd" if confirm else "afgewezen"
    return RedirectResponse(
        f"/besturen/{who.board}/wachtend/{staff_list_id}?besluit={done}", status_code=303
    )


def _cases_page(
    request: Request,
    who: Principal,
    *,
    error: str | None = None,
    failed: str | None = None,
    status: int = 200,
    done: str | None = None,
) -> HTMLResponse:
    everything = board_portal.cases_of(vogscreen(request), who.board, only_open=False)
    open_cases = [case for case in everything if case["status"] == CaseStatus.OPEN]
    closed = [case for case in everything if case["status"] != CaseStatus.OPEN]
    return page(
        request,
        "cases.html",
        status=status,
        open_cases=open_cases,
        closed=closed,
        outcomes=list(CaseOutcome),
        today=vogscreen(request).today(),
        error=error,
        failed=failed,
        done=done,
    )


@router.get("/zaken")
def case_list(request: Request, number: str, who: Board, afgehandeld: str = "") -> HTMLResponse:
    return _cases_page(request, who, done=afgehandeld or None)


@router.post("/zaken/{reference}/afhandelen")
def resolve_case(
    request: Request,
    number: str,
    reference: str,
    who: BoardForm,
    uitkomst: Annotated[str, Form()] = "",
    vog_datum: Annotated[str, Form()] = "",
    toelichting: Annotated[str, Form()] = "",
) -> Response:
    def refused(error: str, status: int = 422) -> HTMLResponse:
        return _cases_page(request, who, error=error, failed=reference, status=status)

    if uitkomst not in tuple(CaseOutcome):
        return refused("outcome")
    try:
        vog_date = dt.date.fromisoformat(vog_datum) if vog_datum.strip() else None
    except ValueError:
        return refused("date")
    if uitkomst == CaseOutcome.NEW_VOG and vog_date is None:
        return refused("date_needed")
    try:
        board_portal.resolve_case(
            vogscreen(request),
            who.board,
            reference,
            outcome=uitkomst,
            vog_date=vog_date,
            note=toelichting or None,
            who=who.who,
        )
    except NotFound:
        raise PageNotFound from None
    except StateConflict:
        return refused("already", 409)
    except InvalidInput:
        return refused("date_early" if vog_date is not None else "note")
    return RedirectResponse(f"/besturen/{who.board}/zaken?afgehandeld={reference}", status_code=303)
