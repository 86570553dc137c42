"""Personeelslijst aanleveren: choose a file, see the preview (a dry run), then hand it in.

The previewed file is kept encrypted (:mod:`vogscreen.pipeline.previews`), so the hand-in
button needs no second choice of the file, and without JavaScript. A rejected file shows
every problem by line and column, with how to fix it, and can be downloaded as CSV.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from vogscreen.domain.errors import NotFound
from vogscreen.domain.statuses import UploadOutcome
from vogscreen.pipeline import previews as uploads
from vogscreen.pipeline.intake import upload
from vogscreen.pipeline.login import Principal
from vogscreen.pipeline.reports import problems_csv, stored_report
from vogscreen.runtime.bootstrap import App
from vogscreen.web.names import RowId, attachment, safe_filename
from vogscreen.web.pages.render import language_of, page
from vogscreen.web.session import PageNotFound, signed_in, signed_in_form, vogscreen

router = APIRouter(prefix="/besturen/{number}", include_in_schema=False)
Board = Annotated[Principal, Depends(signed_in)]
BoardForm = Annotated[Principal, Depends(signed_in_form)]
PREVIEW = "voorbeeld"
HAND_IN = "inleveren"


def run_upload(
    app: App, who: Principal, filename: str, data: bytes, *, dry_run: bool, language: str
) -> dict[str, Any]:
    """The intake of ``data`` as a file named ``filename``, as the CLI would run it."""
    with tempfile.TemporaryDirectory(prefix="vogscreen-portal-") as folder:
        path = Path(folder) / safe_filename(filename)
        path.write_bytes(data)
        report = upload(app, who.board, path, dry_run=dry_run, received_by=who.who)
    return report.as_dict(language)


@router.get("/aanleveren")
def upload_form(request: Request, number: str, who: Board) -> HTMLResponse:
    return page(request, "upload.html", error=None)


@router.post("/aanleveren")
def hand_in(
    request: Request,
    number: str,
    who: BoardForm,
    stap: Annotated[str, Form()] = PREVIEW,
    bestand: Annotated[UploadFile | None, File()] = None,
    voorbeeld: Annotated[str, Form()] = "",
) -> Response:
    app = vogscreen(request)
    if stap == HAND_IN:
        kept = uploads.take(app, who, voorbeeld)
        if kept is None:
            return page(request, "upload.html", status=410, error="expired")
        report = run_upload(
            app, who, kept.filename, kept.data, dry_run=False, language=language_of(request)
        )
        uploads.forget(app, kept.key)
        status = 422 if report["status"] == UploadOutcome.REJECTED else 200
        return page(request, "upload_done.html", status=status, report=report)
    if bestand is None or not bestand.filename:
        return page(request, "upload.html", status=422, error="no_file")
    limit = app.settings.max_upload_bytes
    data = bestand.file.read(limit + 1)
    if len(data) > limit:
        return page(request, "upload.html", status=413, error="too_large", limit=limit)
    filename = safe_filename(bestand.filename)
    report = run_upload(app, who, filename, data, dry_run=True, language=language_of(request))
    rejected = report["status"] == UploadOutcome.REJECTED
    key = uploads.keep(app, who, filename, data)
    return page(
        request, "upload_preview.html", status=422 if rejected else 200, report=report, key=key
    )


def _csv(document: dict[str, Any], filename: str) -> Response:
    stem = safe_filename(filename).rsplit(".", 1)[0]
    disposition = attachment(f"fouten-{stem}.csv")
    return Response(
        problems_csv(document),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


@router.get("/aanleveren/{key}/fouten.csv")
def preview_problems(request: Request, number: str, key: str, who: Board) -> Response:
    """The problems of a previewed file, as CSV: the file is read again (a dry run)."""
    app = vogscreen(request)
    kept = uploads.take(app, who, key)
    if kept is None:
        raise PageNotFound
    report = run_upload(
        app, who, kept.filename, kept.data, dry_run=True, language=language_of(request)
    )
    return _csv(report, kept.filename)


@router.get("/geschiedenis/{staff_list_id}")
def stored(request: Request, number: str, staff_list_id: RowId, who: Board) -> HTMLResponse:
    try:
        report = stored_report(vogscreen(request), who.board, staff_list_id, language_of(request))
    except NotFound:
        raise PageNotFound from None
    return page(request, "report.html", report=report)


@router.get("/geschiedenis/{staff_list_id}/fouten.csv")
def stored_problems(request: Request, number: str, staff_list_id: RowId, who: Board) -> Response:
    try:
        report = stored_report(vogscreen(request), who.board, staff_list_id, language_of(request))
    except NotFound:
        raise PageNotFound from None
    return _csv(report, str(report.get("file") or "lijst"))
