"""The API for HR systems, under ``/api/v1``: one board's data per token.

Every endpoint is ``/api/v1/boards/{board}/...`` and needs ``Authorization: Bearer
<token>`` with a token of that board (``vogscreen board token create``). No token, or an
unknown or revoked one, is 401; a token of another board is 404, exactly as a board, list
or case that does not exist, so nothing tells that another board exists. Every call with a
token is audited with the token's id. Errors are problem documents
(:mod:`vogscreen.web.problems`); the request body's size is limited while it streams in
(:mod:`vogscreen.web.limits`).
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from vogscreen.domain.errors import NotFound
from vogscreen.domain.statuses import CaseStatus, UploadOutcome
from vogscreen.pipeline import board_portal
from vogscreen.pipeline.intake import upload
from vogscreen.pipeline.tokens import TokenHolder
from vogscreen.runtime.bootstrap import App
from vogscreen.web import schemas
from vogscreen.web.names import RowId, safe_filename
from vogscreen.web.problems import RESPONSES, unauthorized

router = APIRouter(prefix="/api/v1", tags=["boards"], responses=RESPONSES)

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="boardToken",
    description="A token of the board: `vogscreen board token create BOARD --name ...`.",
)


def vogscreen(request: Request) -> App:
    app: App = request.app.state.vogscreen
    return app


def caller(
    request: Request,
    board: Annotated[str, Path(description="The board's 5-digit DUO number.")],
    app: Annotated[App, Depends(vogscreen)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenHolder:
    """The token's holder, when it is a valid token of ``board``: 401 without a valid
    token, 404 for a token of another board (as for a board that does not exist)."""
    if credentials is None:
        raise unauthorized()
    holder = board_portal.authenticate(
        app, credentials.credentials, (request.method, request.url.path)
    )
    if holder is None:
        raise unauthorized()
    if holder.board != board:
        raise NotFound(f"there is no board {board}")
    return holder


Caller = Annotated[TokenHolder, Depends(caller)]
Vogscreen = Annotated[App, Depends(vogscreen)]

# What an upload came to, as an HTTP status.
_UPLOAD_STATUS = {
    UploadOutcome.ACCEPTED: 201,
    UploadOutcome.UNCHANGED: 200,
    UploadOutcome.HELD: 202,
    UploadOutcome.REJECTED: 422,
}
_REPORT = {
    "description": "The upload report, as `vogscreen staff upload --report-json` writes it.",
    "content": {"application/json": {"schema": {"type": "object"}}},
}


@router.post(
    "/boards/{board}/staff-lists",
    summary="Hand in a staff list",
    response_class=JSONResponse,
    responses={
        201: {**_REPORT, "description": "Accepted: applied by the next reconcile."},
        200: {**_REPORT, "description": "Unchanged, or a dry run."},
        202: {**_REPORT, "description": "Held: it waits for the board's decision."},
        422: {**_REPORT, "description": "Rejected: every problem, by line and column."},
    },
)
def hand_in(
    app: Vogscreen,
    holder: Caller,
    file: Annotated[UploadFile, File(description="The staff list: CSV or XLSX.")],
    dry_run: Annotated[bool, Form(description="Only check and preview; store nothing.")] = False,
) -> JSONResponse:
    """Validate a staff list and store it, or reject it with every problem. With
    `dry_run=true` nothing is stored: the report previews what would change."""
    report = upload(
        app,
        holder.board,
        FilePath(safe_filename(file.filename)),
        dry_run=dry_run,
        received_by=holder.actor,
        opened=file.file,
    )
    status = _UPLOAD_STATUS[report.status]
    if dry_run and report.status != UploadOutcome.REJECTED:
        status = 200
    return JSONResponse(report.as_dict(language="nl"), status_code=status)


@router.get("/boards/{board}", summary="The board at a glance")
def overview(app: Vogscreen, holder: Caller) -> schemas.Overview:
    return schemas.Overview.model_validate(board_portal.overview(app, holder.board))


@router.get("/boards/{board}/staff-lists", summary="Every list handed in")
def history(app: Vogscreen, holder: Caller) -> list[schemas.HistoryItem]:
    """Every list the board handed in, oldest first: status, counts, who and when."""
    return [
        schemas.HistoryItem.model_validate(item) for item in board_portal.history(app, holder.board)
    ]


@router.get(
    "/boards/{board}/staff-lists/{staff_list_id}",
    summary="One list's report",
    responses={200: _REPORT},
)
def staff_list(app: Vogscreen, holder: Caller, staff_list_id: RowId) -> dict[str, Any]:
    return board_portal.staff_list(app, holder.board, staff_list_id)


@router.post("/boards/{board}/staff-lists/{staff_list_id}/confirm", summary="Confirm a held list")
def confirm(
    app: Vogscreen, holder: Caller, staff_list_id: RowId, body: schemas.ConfirmBody | None = None
) -> schemas.Decision:
    """Release a held list: the next reconcile applies it."""
    reason = body.reason if body is not None else ""
    decided = board_portal.decide_held(
        app, holder.board, staff_list_id, confirm=True, reason=reason, who=holder.actor
    )
    return schemas.Decision.model_validate(decided)


@router.post("/boards/{board}/staff-lists/{staff_list_id}/reject", summary="Reject a held list")
def reject(
    app: Vogscreen, holder: Caller, staff_list_id: RowId, body: schemas.RejectBody
) -> schemas.Decision:
    """Discard a held list, with the reason; the current staff stays as it is."""
    decided = board_portal.decide_held(
        app, holder.board, staff_list_id, confirm=False, reason=body.reason, who=holder.actor
    )
    return schemas.Decision.model_validate(decided)


@router.get("/boards/{board}/staff", summary="The current staff")
def current_staff(app: Vogscreen, holder: Caller) -> list[schemas.StaffMember]:
    """The board's current staff: no BSN and no birth date."""
    return [
        schemas.StaffMember.model_validate(member)
        for member in board_portal.current_staff(app, holder.board)
    ]


@router.get("/boards/{board}/cases", summary="The board's cases")
def cases(
    app: Vogscreen,
    holder: Caller,
    # ?open=true: named after the status it selects.
    only_open: Annotated[
        bool, Query(alias=CaseStatus.OPEN, description="Only open cases.")
    ] = False,
) -> list[schemas.Case]:
    return [
        schemas.Case.model_validate(case)
        for case in board_portal.cases_of(app, holder.board, only_open=only_open)
    ]


@router.post("/boards/{board}/cases/{reference}/resolve", summary="Resolve a case")
def resolve(
    app: Vogscreen, holder: Caller, reference: str, body: schemas.ResolveBody
) -> schemas.Resolved:
    """Record how the case was dealt with; `new_vog` needs the new VOG's date, on or
    after the hit."""
    resolved = board_portal.resolve_case(
        app,
        holder.board,
        reference,
        outcome=body.outcome,
        vog_date=body.vog_date,
        note=body.note,
        who=holder.actor,
    )
    return schemas.Resolved.model_validate(resolved)


def install(portal: FastAPI) -> None:
    portal.include_router(router)
