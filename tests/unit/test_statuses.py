"""Statuses are spelled out once, in ``vogscreen.domain.statuses``; everything else names
the enum member. A status word as a string literal anywhere else in the package fails."""

from __future__ import annotations

import ast
from pathlib import Path

from vogscreen.domain import statuses as s

ROOT = Path(__file__).resolve().parents[2]
VOCABULARIES = (
    s.StaffListStatus,
    s.UploadOutcome,
    s.HoldReason,
    s.SubscriptionStatus,
    s.OutboxStatus,
    s.CaseStatus,
    s.CaseOutcome,
    s.NotificationStatus,
    s.RunOutcome,
    s.Operation,
)
WORDS = {member.value for vocabulary in VOCABULARIES for member in vocabulary}


def _sources() -> list[Path]:
    return sorted(
        p
        for p in (ROOT / "vogscreen").rglob("*.py")
        if "migrations" not in p.parts and p != ROOT / "vogscreen" / "domain" / "statuses.py"
    )


def _literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    # A dictionary's keys name counts and fields ("unchanged": 5), not statuses.
    keys = {id(key) for node in ast.walk(tree) if isinstance(node, ast.Dict) for key in node.keys}
    keys |= {id(node.slice) for node in ast.walk(tree) if isinstance(node, ast.Subscript)}
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in WORDS
        and id(node) not in docstrings | keys
    ]


def test_no_status_word_is_spelled_out_outside_the_statuses_module() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {word!r}"
        for path in _sources()
        for line, word in _literals(path)
    ]
    assert found == []


def test_an_accepted_upload_is_stored_as_a_pending_list() -> None:
    assert s.STORED_AS[s.UploadOutcome.ACCEPTED] == "pending"
    assert set(s.STORED_AS) == set(s.UploadOutcome) - {s.UploadOutcome.UNCHANGED}
