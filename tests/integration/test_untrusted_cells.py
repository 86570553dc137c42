"""Cell text is untrusted: it never reaches a report, a mail header or a log unfiltered, and
a file whose shape is off (a huge cell, a cut-off row, a hidden sheet) is named for what it is."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from tests.conftest import Cli
from tests.corpus.formats import members_of, zip_of
from tests.texts import en, every_language
from vogscreen.domain.errors import InvalidInput
from vogscreen.domain.language import msg
from vogscreen.domain.terms import Cell
from vogscreen.intake import problems as p
from vogscreen.intake.problems import FileProblem, Problem
from vogscreen.intake.reading import Table, read_table
from vogscreen.intake.validate import validate_table
from vogscreen.mail.compose import Letter, TemplateSet
from vogscreen.pipeline.intake import upload
from vogscreen.pipeline.upload_report import UploadReport
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import StaffList
from vogscreen.testing import HEADER, fake_employees, staff_csv

TODAY = dt.date(2026, 6, 1)
LIMIT = 200 * 1024 * 1024
STAFF = fake_employees(3, seed=91)
BSN = "339826903"  # valid: passes the 11-check
BIRTH = "1966-10-07"
HEADERLESS = f"{BSN};{BIRTH};Jansen;;N.;P77;12AB;leerkracht;2011-05-24;;2016-06-03\r\n"
EVERY_CODE = sorted(
    value
    for name, value in vars(p).items()
    if name.isupper() and isinstance(value, str) and not name.startswith("_")
)


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="")
    else:
        path.write_bytes(data)
    return path


def csv_of(rows: list[list[str]], header: tuple[str, ...] | list[str] = HEADER) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def table_of(*rows: list[Cell], header: tuple[str, ...] = HEADER) -> Table:
    return Table("csv", list(header), iter(list(enumerate(rows, start=2))), 1)


def problems_of(report: UploadReport) -> list[tuple[int | None, str]]:
    return [(problem.line, problem.code) for problem in report.problems]


# --- 2. no report quotes a BSN or a date -----------------------------------------------------


def test_a_list_without_its_header_row_puts_no_bsn_or_birth_date_in_any_report(
    app: App, board: str, run: Cli, tmp_path: Path
) -> None:
    path = write(tmp_path, "geen-kop.csv", HEADERLESS)
    result = run(
        "staff",
        "upload",
        board,
        str(path),
        "--report-json",
        str(tmp_path / "r.json"),
        "--lang",
        "en",
    )

    assert result.exit_code == 1
    written = (tmp_path / "r.json").read_text()
    with app.sessions() as session:
        stored = json.dumps(session.scalars(select(StaffList.report)).one())
    assert {problem["code"] for problem in json.loads(written)["problems"]} == {p.MISSING_COLUMN}
    for text in (result.stdout, written, stored):
        assert BSN not in text and BIRTH not in text and "1966" not in text
    assert "no header row" in result.stdout
    dutch = run("staff", "upload", board, str(path), "--report-json", str(tmp_path / "nl.json"))
    assert dutch.exit_code == 1
    dutch_report = (tmp_path / "nl.json").read_text()
    for text in (dutch.stdout, dutch_report):
        assert BSN not in text and BIRTH not in text and "1966" not in text
    assert "ontbreekt de kopregel?" in json.loads(dutch_report)["problems"][0]["message"]


@pytest.mark.parametrize("code", EVERY_CODE)
def test_every_problem_code_passes_through_the_log_redaction_on_its_way_to_a_report(
    code: str,
) -> None:
    problem = Problem(
        7,
        f"kolom {BSN}",
        code,
        msg("the value %(value)s (or %(other)s) is wrong", value=BSN, other=f"0{BSN[:-1]}"),
        msg("not %(value)s", value=BSN),
    )
    report = UploadReport(status="rejected", board="12345", filename=f"{BSN}.csv")
    report.problems.append(problem)

    rendered = json.dumps([report.as_dict("nl"), report.as_dict("en"), problem.stored()])

    assert BSN not in rendered and BSN[:-1] not in rendered
    assert BSN not in every_language(problem.message) and BSN not in (problem.column or "")
    assert "[redacted]" in en(problem.message) and report.as_dict()["problems"][0]["code"] == code


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("brin", "339.826.903", p.BRIN_INVALID),
        ("brin", "07-10-1966", p.BRIN_INVALID),
        ("datum_in_dienst", "31-02-1966", p.DATE_INVALID),
        ("datum_in_dienst", "1966-13-07", p.DATE_INVALID),
        ("vog_datum", "2031-10-07", p.DATE_IN_FUTURE),
        ("datum_uit_dienst", "1966-10-07", p.DATE_ORDER),
    ],
)
def test_no_problem_message_quotes_cell_text_that_could_be_a_bsn_or_a_date(
    column: str, value: str, code: str
) -> None:
    cells = STAFF[0].cells()
    cells[HEADER.index(column)] = value
    validated = validate_table(table_of(cells), today=TODAY)

    assert [problem.code for problem in validated.problems] == [code]
    message = every_language(validated.problems[0].message)
    assert value not in message and "1966" not in message and "2031" not in message


def test_a_brin_that_cannot_be_a_bsn_or_date_is_still_quoted_so_the_board_can_find_it() -> None:
    cells = STAFF[0].cells()
    cells[HEADER.index("brin")] = "XYZ"
    validated = validate_table(table_of(cells), today=TODAY)
    assert "'XYZ'" in en(validated.problems[0].message)


# --- 3. control characters in cells, and in mail headers ---------------------------------------


@pytest.mark.parametrize("column", HEADER)
@pytest.mark.parametrize("control", ["\r\n", "\n", "\r", "\x00", "\x1b", "\x0b", "\x7f", "\u2028"])
def test_a_control_character_in_any_cell_is_a_problem_of_its_own(column: str, control: str) -> None:
    cells = STAFF[0].cells()
    cells[HEADER.index(column)] = "P1" + control + "Bcc: x@example.org"
    validated = validate_table(table_of(cells), today=TODAY)

    assert [(problem.line, problem.code) for problem in validated.problems] == [
        (2, p.CONTROL_CHARACTER)
    ]
    assert "Bcc" not in every_language(validated.problems[0].message)
    assert validated.rows == []


def test_a_tab_inside_a_name_is_no_control_character_problem() -> None:
    cells = STAFF[0].cells()
    cells[HEADER.index("achternaam")] = "de\tVries"
    assert validate_table(table_of(cells), today=TODAY).problems == []


def test_a_quoted_personeelsnummer_with_a_line_break_is_rejected_on_upload(
    app: App, board: str, tmp_path: Path
) -> None:
    rows = [employee.cells() for employee in STAFF]
    rows[1][HEADER.index("personeelsnummer")] = "P1\r\nBcc: x@example.org"
    report = upload(app, board, write(tmp_path, "staff.csv", csv_of(rows)))

    assert report.status == "rejected"
    assert problems_of(report) == [(3, p.CONTROL_CHARACTER)]


def letter(personeelsnummer: str) -> Letter:
    return Letter("hit", "Stichting", "J. de Vries", personeelsnummer, "VS-1", TODAY, TODAY)


@pytest.mark.parametrize("value", ["P1\r\nBcc: x@example.org", "P1\nX-Evil: 1", "P1\rX: 1"])
def test_mail_composition_refuses_a_line_break_in_the_subject(value: str) -> None:
    with pytest.raises(InvalidInput, match="Subject"):
        TemplateSet().compose(
            letter(value),
            sender="vogscreen <v@x.nl>",
            recipients=["hr@x.nl"],
            message_id="<a@vogscreen.invalid>",
            reply_to=None,
            now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        )


@pytest.mark.parametrize("field", ["sender", "recipients", "reply_to"])
def test_mail_composition_refuses_a_line_break_in_any_address_header(field: str) -> None:
    values: dict[str, object] = {
        "sender": "vogscreen <v@x.nl>",
        "recipients": ["hr@x.nl"],
        "reply_to": "hr@x.nl",
    }
    evil = "hr@x.nl\r\nBcc: x@example.org"
    values[field] = [evil] if field == "recipients" else evil
    with pytest.raises(InvalidInput):
        TemplateSet().compose(
            letter("P1"),
            message_id="<a@vogscreen.invalid>",
            now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
            **values,  # type: ignore[arg-type]
        )


# --- 4. a huge cell ------------------------------------------------------------------------------


def refusal(data: bytes) -> FileProblem:
    with pytest.raises(FileProblem) as raised:
        list(read_table(data, max_unpacked_bytes=LIMIT).rows)
    return raised.value


def test_a_huge_header_cell_is_refused_as_a_field_too_large() -> None:
    data = staff_csv(STAFF).replace("achternaam", "achternaam" + "x" * 200_000).encode()
    problem = refusal(data).problem
    assert problem.code == p.FIELD_TOO_LARGE
    assert "line 1" in en(problem.message)


def test_a_huge_data_cell_is_refused_as_a_field_too_large_not_a_stray_quote() -> None:
    rows = [employee.cells() for employee in STAFF]
    rows[1][HEADER.index("functie")] = "x" * 200_000
    problem = refusal(csv_of(rows).encode()).problem
    assert problem.code == p.FIELD_TOO_LARGE
    assert "line 3" in en(problem.message)


def xlsx_with_cell(row: int, column: str, value: str) -> bytes:
    """A workbook of STAFF in which one cell's shared string is replaced by ``value``, as
    a tool that does not cut values to Excel's 32,767 characters writes it."""
    rows: list[list[object]] = [list(HEADER), *(list(e.cells()) for e in STAFF)]
    rows[row - 1][HEADER.index(column)] = "PLACEHOLDER"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for cells in rows:
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return zip_of(
        (name, data.replace(b"PLACEHOLDER", value.encode()))
        for name, data in members_of(buffer.getvalue())
    )


@pytest.mark.parametrize("size", [200_000, 32_767])
def test_a_huge_xlsx_header_cell_is_refused_as_a_field_too_large(size: int) -> None:
    problem = refusal(xlsx_with_cell(1, "functie", "functie " + "x" * size)).problem
    assert problem.code == p.FIELD_TOO_LARGE
    assert "line 1" in en(problem.message) and len(every_language(problem.message)) < 600


def test_a_huge_xlsx_data_cell_is_refused_as_a_field_too_large() -> None:
    problem = refusal(xlsx_with_cell(3, "functie", "x" * 200_000)).problem
    assert problem.code == p.FIELD_TOO_LARGE
    assert "line 3" in en(problem.message) and len(every_language(problem.message)) < 600


def test_a_long_header_name_is_quoted_only_as_a_short_excerpt(app: App, board: str) -> None:
    header = ["Personeelsnummer " + "lang " * 20_000, *HEADER[1:]]
    table = Table("csv", header, iter([(2, STAFF[0].cells()[1:])]), 1)
    problems = validate_table(table, today=TODAY).problems
    assert [problem.code for problem in problems] == [p.MISSING_COLUMN]
    assert len(every_language(problems[0].message)) < 800


def test_no_value_is_quoted_longer_than_a_short_excerpt() -> None:
    assert len(p.quoted("brin " + "x" * 100_000)) < 80


# --- 5. hidden sheets ----------------------------------------------------------------------------


def workbook(*sheets: tuple[str, str, list[list[object]]]) -> bytes:
    """A workbook with these sheets in these states (openpyxl will not save all hidden, so
    the states are written into workbook.xml afterwards)."""
    book = openpyxl.Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, _, rows in sheets:
        sheet = book.create_sheet(title)
        for cells in rows:
            sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    members = members_of(buffer.getvalue())
    states = {title: state for title, state, _ in sheets}

    def with_states(name: str, data: bytes) -> bytes:
        if name != "xl/workbook.xml":
            return data
        text = data.decode()
        for title, state in states.items():
            text = re.sub(f'(<sheet name="{title}"[^>]*state=")visible"', f'\\1{state}"', text)
        return text.encode()

    return zip_of((name, with_states(name, data)) for name, data in members)


def test_an_xlsx_is_read_from_its_first_visible_sheet_and_the_report_names_it(
    app: App, board: str, tmp_path: Path
) -> None:
    hidden = [list(HEADER), *(e.cells() for e in fake_employees(2, seed=5))]
    visible = [list(HEADER), *(e.cells() for e in STAFF)]
    data = workbook(
        ("Oud", "hidden", hidden), ("Ook oud", "veryHidden", hidden), ("Nu", "visible", visible)
    )

    report = upload(app, board, write(tmp_path, "staff.xlsx", data), dry_run=True)

    assert report.status == "accepted", report.problems
    assert report.counts["rows"] == 3
    assert report.as_dict()["sheet"] == "Nu"


def test_an_xlsx_with_every_sheet_hidden_is_refused() -> None:
    rows = [list(HEADER), STAFF[0].cells()]
    problem = refusal(workbook(("Oud", "hidden", rows), ("Weg", "veryHidden", rows))).problem
    assert problem.code == p.NO_VISIBLE_SHEET


# --- 12. rows cut short --------------------------------------------------------------------------


def test_a_row_with_fewer_cells_than_the_header_is_a_row_length_problem(
    app: App, board: str, tmp_path: Path
) -> None:
    text = staff_csv(STAFF) + ";".join(fake_employees(1, seed=3)[0].cells()[:6]) + "\r\n"
    report = upload(app, board, write(tmp_path, "staff.csv", text))

    assert report.status == "rejected"
    assert problems_of(report) == [(5, p.ROW_LENGTH)]


def test_a_short_row_that_ends_in_an_empty_cell_is_no_spreadsheet_habit() -> None:
    employees = fake_employees(20, seed=4)
    rows: list[list[Cell]] = [list(e.cells()) for e in employees]
    rows[18] = [*rows[18][:7], ""]
    validated = validate_table(table_of(*rows), today=TODAY)
    assert [(problem.line, problem.code) for problem in validated.problems] == [(20, p.ROW_LENGTH)]


def test_trailing_empty_cells_a_spreadsheet_drops_after_row_16_are_accepted() -> None:
    employees = fake_employees(20, seed=4)
    rows: list[list[Cell]] = [list(e.cells()) for e in employees]
    rows[18] = rows[18][:8]
    validated = validate_table(table_of(*rows), today=TODAY)
    assert validated.problems == []
    assert len(validated.rows) == 20
