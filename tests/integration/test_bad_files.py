"""Every file of the bad corpus is refused whole, with the problem it stands for.

The corpus lives in tests/corpus/bad/ and is written by tests/corpus/make_corpus.py; its
MANIFEST.toml names the codes each file must produce and the real-world failure it is.
"""

from __future__ import annotations

import dataclasses
import json
import time
import tomllib
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.corpus.cases import secrets
from tests.texts import en, every_language
from vogscreen.intake import problems as p
from vogscreen.pipeline.intake import upload
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import Person, StaffList, StaffListRow

BAD = Path(__file__).parents[1] / "corpus" / "bad"
MANIFEST: dict[str, dict[str, Any]] = tomllib.loads(
    (BAD / "MANIFEST.toml").read_text(encoding="utf-8")
)
SECRETS = secrets()


def count(app: App, model: type) -> int:
    with app.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def settings_of(entry: dict[str, Any]) -> dict[str, int]:
    return {key: value for key, value in entry.items() if key not in ("codes", "failure")}


def test_the_corpus_holds_at_least_thirty_different_failures() -> None:
    files = {path.name for path in BAD.iterdir() if path.name != "MANIFEST.toml"}
    assert files == set(MANIFEST)
    assert len(files) >= 30
    failures = [entry["failure"] for entry in MANIFEST.values()]
    assert len(set(failures)) == len(failures)
    assert all(entry["codes"] for entry in MANIFEST.values())


def test_every_file_level_and_row_level_code_has_a_bad_file() -> None:
    covered = {code for entry in MANIFEST.values() for code in entry["codes"]}
    # Not a property of a file: an unknown board and a known BSN with another birth date
    # are tested in test_intake_service.py; a link or pipe in the drop folder, and a file
    # the drop folder could not read, in test_dropfolder.py.
    needs_state = {p.UNKNOWN_BOARD, p.BIRTH_DATE_MISMATCH, p.NOT_A_REGULAR_FILE, p.UNREADABLE}
    every_code = {
        value
        for name, value in vars(p).items()
        if name.isupper() and isinstance(value, str) and not name.startswith("_")
    }
    assert every_code - needs_state <= covered


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_a_bad_file_is_rejected_with_its_problem_and_nothing_of_it_is_stored(
    app: App, board: str, name: str
) -> None:
    entry = MANIFEST[name]
    app.settings = dataclasses.replace(app.settings, **settings_of(entry))

    report = upload(app, board, BAD / name)

    assert report.status == "rejected"
    assert {problem.code for problem in report.problems} == set(entry["codes"])
    assert all(every_language(problem.message).strip() for problem in report.problems)
    # and every problem says how to fix it, in every language
    assert all(every_language(problem.hint).strip() for problem in report.problems)
    assert count(app, Person) == 0
    assert count(app, StaffListRow) == 0
    with app.sessions() as session:
        stored = session.scalars(select(StaffList)).all()
    assert [staff_list.status for staff_list in stored] in (["rejected"], [])
    recorded = json.dumps([staff_list.report for staff_list in stored], ensure_ascii=False)
    rendered = json.dumps(report.as_dict(), ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in rendered
        assert secret not in recorded


@pytest.mark.parametrize("name", ["zip_bomb.xlsx", "zip_bomb_lying_sizes.xlsx"])
def test_a_zip_bomb_is_refused_quickly_and_within_bounded_memory(
    app: App, board: str, name: str
) -> None:
    unpacked = 300 * 1024 * 1024
    tracemalloc.start()
    try:
        started = time.perf_counter()
        report = upload(app, board, BAD / name)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert {problem.code for problem in report.problems} == set(MANIFEST[name]["codes"])
    assert elapsed < 5
    assert peak < unpacked / 20


def test_a_workbook_is_refused_when_it_unpacks_to_more_than_the_configured_limit(
    app: App, board: str
) -> None:
    app.settings = dataclasses.replace(app.settings, max_xlsx_unpacked_bytes=8 * 1024)
    good = Path(__file__).parents[1] / "corpus" / "good" / "number_and_date_cells.xlsx"

    report = upload(app, board, good)

    assert report.status == "rejected"
    assert [problem.code for problem in report.problems] == [p.XLSX_TOO_LARGE]
    assert "over the limit of 8 KiB" in en(report.problems[0].message)
    assert count(app, Person) == 0
