"""API-sleutels: the board creates a token for its HR system (shown once) and revokes it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vogscreen.domain.errors import InvalidInput, NotFound
from vogscreen.pipeline import board_portal
from vogscreen.pipeline.login import Principal
from vogscreen.web.names import RowId
from vogscreen.web.pages.render import page
from vogscreen.web.session import PageNotFound, signed_in, signed_in_form, vogscreen

router = APIRouter(prefix="/besturen/{number}", include_in_schema=False)
Board = Annotated[Principal, Depends(signed_in)]
BoardForm = Annotated[Principal, Depends(signed_in_form)]


def _tokens_page(
    request: Request,
    who: Principal,
    *,
    created: str | None = None,
    error: str | None = None,
    status: int = 200,
    revoked: bool = False,
) -> HTMLResponse:
    app = vogscreen(request)
    return page(
        request,
        "tokens.html",
        status=status,
        tokens=board_portal.list_tokens(app, who.board),
        created=created,
        error=error,
        revoked=revoked,
        api_url=f"{app.settings.portal_url}/api/v1/boards/{who.board}",
    )


@router.get("/api-sleutels")
def tokens(request: Request, number: str, who: Board, ingetrokken: bool = False) -> HTMLResponse:
    return _tokens_page(request, who, revoked=ingetrokken)


@router.post("/api-sleutels/aanmaken")
def create_token(
    request: Request, number: str, who: BoardForm, naam: Annotated[str, Form()] = ""
) -> Response:
    if not naam.strip():
        return _tokens_page(request, who, error="name", status=422)
    try:
        _id, token = board_portal.create_token(vogscreen(request), who.board, naam, who.who)
    except InvalidInput:
        return _tokens_page(request, who, error="name", status=422)
    # Shown on this answer only: the database keeps only its digest.
    response = _tokens_page(request, who, created=token, status=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/api-sleutels/{token_id}/intrekken")
def revoke_token(request: Request, number: str, token_id: RowId, who: BoardForm) -> Response:
    try:
        board_portal.revoke_token(vogscreen(request), who.board, token_id, who.who)
    except NotFound:
        raise PageNotFound from None
    return RedirectResponse(f"/besturen/{who.board}/api-sleutels?ingetrokken=true", status_code=303)
