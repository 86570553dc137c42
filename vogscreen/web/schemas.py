"""The API's request and response bodies, as the OpenAPI document shows them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vogscreen.domain.statuses import CaseOutcome, CaseStatus, StaffListStatus
from vogscreen.pipeline.board_portal import MAX_REASON
from vogscreen.pipeline.followup import MAX_NOTE


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LastList(BaseModel):
    id: int
    status: StaffListStatus
    received_at: dt.datetime
    received_by: str


class Overview(BaseModel):
    board: str = Field(description="The board's 5-digit DUO number.")
    name: str
    staff: int = Field(description="Current employments.")
    subscribed: int = Field(description="Of those, screened by the authority.")
    refused: int = Field(description="Of those, refused by the authority (check their data).")
    open_cases: int
    overdue_cases: int
    held_lists: list[int] = Field(description="Lists that wait for the board's decision.")
    last_list: LastList | None


class StaffMember(BaseModel):
    """One person on the board's current staff list: never a BSN, never a birth date."""

    personeelsnummer: str | None
    name: str
    brin: str | None
    function: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    vog_date: dt.date | None
    screening: str = Field(description="The subscription's status, or `none`.")


class HistoryItem(BaseModel):
    id: int
    status: StaffListStatus
    file: str
    received_at: dt.datetime
    received_by: str
    saved_at: str | None
    counts: dict[str, int]
    problems: int = Field(description="How many problems a rejected file had.")
    hold: str | None = Field(description="Why a held list is held (a code).")
    reason: Any = Field(description="Why it is held, in words.")
    decided_at: dt.datetime | None
    decided_by: str | None


class ConfirmBody(_Body):
    reason: str = Field("", max_length=MAX_REASON, description="Why (optional).")


class RejectBody(_Body):
    reason: str = Field(
        min_length=1, max_length=MAX_REASON, description="Why the list is rejected (required)."
    )


class Decision(BaseModel):
    id: int
    board: str
    status: StaffListStatus = Field(
        description="`pending` (confirmed: the next reconcile applies it), `discarded`, or "
        "`superseded` (a newer list was already taken)."
    )
    superseded_by: int | None


class Case(BaseModel):
    reference: str
    board: str
    personeelsnummer: str | None
    name: str
    status: CaseStatus
    opened_at: dt.datetime
    deadline: dt.date
    outcome: CaseOutcome | None
    resolved_by: str | None
    resolved_at: dt.datetime | None
    raised_at: dt.datetime | None = Field(description="When the authority raised the hit.")
    vog_date: dt.date | None
    note: str | None


class ResolveBody(_Body):
    outcome: CaseOutcome
    vog_date: dt.date | None = Field(
        None, description="The new VOG's date: required for `new_vog`, on or after the hit."
    )
    note: str | None = Field(None, max_length=MAX_NOTE)


class Resolved(BaseModel):
    reference: str
    status: CaseStatus
    outcome: CaseOutcome
    vog_date: dt.date | None
    note: str | None
    resolved_by: str
    resolved_at: dt.datetime
