"""Parsing single values and reading whole files, with plain values and no database."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from tests.texts import en, every_language
from vogscreen.domain.terms import Cell
from vogscreen.intake import problems as p
from vogscreen.intake.cells import RowProblem as _RowProblem
from vogscreen.intake.cells import parse_brin, parse_bsn, parse_date
from vogscreen.intake.problems import FileProblem
from vogscreen.intake.reading import Table, read_table
from vogscreen.intake.validate import validate_table
from vogscreen.testing import bsn_stream

VALID_BSN = "111222333"
TODAY = dt.date(2026, 6, 1)
LIMIT = 200 * 1024 * 1024


def code_of(parse: object, value: Cell) -> str:
    with pytest.raises(_RowProblem) as raised:
        parse(value)  # type: ignore[operator]
    return raised.value.code


def read(data: bytes) -> tuple[Table, list[tuple[int, list[Cell]]]]:
    table = read_table(data, max_unpacked_bytes=LIMIT)
    return table, list(table.rows)


def refusal(data: bytes, *, limit: int = LIMIT) -> FileProblem:
    with pytest.raises(FileProblem) as raised:
        table = read_table(data, max_unpacked_bytes=limit)
        list(table.rows)
    return raised.value


# --- BSN -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    ["111222333", " 111222333 ", "111.222.333", "111 222 333", "111-222-333", 111222333],
)
def test_a_bsn_is_read_from_text_or_a_number_with_separators_ignored(cell: Cell) -> None:
    assert parse_bsn(cell) == VALID_BSN


@pytest.mark.parametrize("cell", ["12345672", 12345672, 12345672.0])
def test_an_eight_digit_bsn_gets_back_the_leading_zero_a_spreadsheet_dropped(cell: Cell) -> None:
    assert parse_bsn(cell) == "012345672"


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("111222334", "11-check"),
        ("1,11222E+08", "scientific notation"),
        ("1.11222E+08", "scientific notation"),
        ("11122233O", "other than digits"),
        ("１１１２２２３３３", "other than digits"),  # full-width digits from a Japanese IME
        ("#N/A", "other than digits"),
        ("1222333", "7 digits"),
        ("1112223330", "10 digits"),
        (111222333.5, "not a whole number"),
    ],
)
def test_a_bsn_that_is_not_nine_digits_passing_the_11_check_is_refused_with_the_reason(
    cell: Cell, words: str
) -> None:
    with pytest.raises(_RowProblem) as raised:
        parse_bsn(cell)
    assert raised.value.code == p.BSN_INVALID
    assert words in en(raised.value.message)
    assert "111222" not in every_language(raised.value.message)


# --- dates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        "1980-05-17",
        "17-05-1980",
        "17/05/1980",
        "17.05.1980",
        " 17-5-1980 ",
        dt.date(1980, 5, 17),
        dt.datetime(1980, 5, 17, 0, 0),
        29358,  # an XLSX date cell that lost its format: the Excel serial number
    ],
)
def test_a_date_is_read_in_every_form_the_format_allows(cell: Cell) -> None:
    assert parse_date(cell) == dt.date(1980, 5, 17)


@pytest.mark.parametrize("cell", [None, "", "   "])
def test_an_empty_date_is_none(cell: Cell) -> None:
    assert parse_date(cell) is None


@pytest.mark.parametrize(
    "cell", ["31-02-1980", "1980-13-01", "12/31/2020", "17-05-80", "29358", "1980-05-17 10:30"]
)
def test_a_date_that_is_not_one_or_does_not_exist_is_refused(cell: Cell) -> None:
    assert code_of(parse_date, cell) == p.DATE_INVALID


def test_no_date_is_repeated_in_its_problem_secret_or_not() -> None:
    with pytest.raises(_RowProblem) as raised:
        parse_date("31-02-1980", secret=True)
    assert "1980" not in every_language(raised.value.message)
    with pytest.raises(_RowProblem) as raised:
        parse_date("31-02-2019")
    assert "2019" not in every_language(raised.value.message)


# --- BRIN ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "brin"), [("06XY", "06XY"), ("06xy", "06XY"), ("06XY01", "06XY01"), ("", None)]
)
def test_a_brin_is_four_or_six_characters_in_capitals(cell: Cell, brin: str | None) -> None:
    assert parse_brin(cell) == brin


@pytest.mark.parametrize("cell", ["06XY1", "O6XY", "XY06", "06XY0A", "1234"])
def test_a_value_that_is_not_a_brin_is_refused(cell: Cell) -> None:
    assert code_of(parse_brin, cell) == p.BRIN_INVALID


# --- reading CSV -------------------------------------------------------------------------

HEADER = ["bsn", "geboortedatum", "achternaam"]
RECORD = [VALID_BSN, "1980-05-17", "Geërts"]


def csv_text(delimiter: str = ";", newline: str = "\r\n") -> str:
    return newline.join(delimiter.join(cells) for cells in (HEADER, RECORD)) + newline


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_the_delimiter_is_taken_from_the_header_line(delimiter: str) -> None:
    table, rows = read(csv_text(delimiter).encode())
    assert table.header == HEADER
    assert rows == [(2, RECORD)]


def test_an_excel_sep_line_names_the_delimiter_and_is_not_the_header() -> None:
    table, rows = read(("sep=|\r\n" + csv_text("|")).encode())
    assert table.header == HEADER
    assert table.header_line == 2
    assert rows == [(3, RECORD)]


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_every_kind_of_line_ending_is_read(newline: str) -> None:
    _, rows = read(csv_text(newline=newline).encode())
    assert rows == [(2, RECORD)]


@pytest.mark.parametrize(
    "data",
    [
        csv_text().encode("utf-8"),
        b"\xef\xbb\xbf" + csv_text().encode("utf-8"),
        b"\xef\xbb\xbf\xef\xbb\xbf" + csv_text().encode("utf-8"),
        csv_text().encode("cp1252"),
        b"\xff\xfe" + csv_text().encode("utf-16-le"),
        b"\xfe\xff" + csv_text().encode("utf-16-be"),
    ],
    ids=["utf-8", "utf-8 bom", "utf-8 two boms", "windows-1252", "utf-16 le", "utf-16 be"],
)
def test_every_encoding_the_format_allows_gives_the_same_text(data: bytes) -> None:
    table, rows = read(data)
    assert table.header == HEADER
    assert rows == [(2, RECORD)]


def test_utf8_with_a_windows_1252_line_is_refused_rather_than_garbled() -> None:
    data = csv_text().encode("utf-8") + ";".join(RECORD).encode("cp1252") + b"\r\n"
    problem = refusal(data).problem
    assert problem.code == p.ENCODING
    assert "line 3" in en(problem.message)


def test_rows_are_numbered_by_the_line_they_start_on() -> None:
    text = 'bsn;geboortedatum;functie\r\n\r\n1;2;"two\nlines"\r\n;;\r\n3;4;5\r\n'
    _, rows = read(text.encode())
    # blank records are handed on (validation skips them), a quoted line break is one row
    assert [line for line, _ in rows] == [2, 3, 5, 6]
    assert rows[1] == (3, ["1", "2", "two\nlines"])


def test_a_last_line_cut_off_without_a_line_break_is_refused() -> None:
    data = csv_text().encode() + VALID_BSN.encode() + b";1980-0"
    problem = refusal(data).problem
    assert problem.code == p.SHORT_ROW
    assert "line 3" in en(problem.message)


def test_a_complete_last_line_without_a_line_break_is_read() -> None:
    _, rows = read(csv_text().rstrip("\r\n").encode())
    assert rows == [(2, RECORD)]


def test_a_quote_that_is_never_closed_is_refused_instead_of_swallowing_the_rest() -> None:
    data = (csv_text() + f'{VALID_BSN};1980-05-17;"t Hart\r\n' + ";".join(RECORD)).encode()
    problem = refusal(data).problem
    assert problem.code == p.STRAY_QUOTE
    assert "line 3" in en(problem.message)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", p.EMPTY_FILE),
        (b" \r\n\t\r\n", p.EMPTY_FILE),
        (b";;;\r\n;;;\r\n", p.EMPTY_FILE),
        (b"\x89PNG\r\n\x1a\n", p.NOT_A_TABLE),
        (b"bsn;naam\x00\x00", p.NOT_A_TABLE),
        (b"\r\n<table><tr><td>bsn</td></tr></table>", p.NOT_A_TABLE),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, p.LEGACY_EXCEL),
        (b"bsn;naam\r\n\x81\x8d\r\n", p.ENCODING),
    ],
)
def test_a_file_that_is_no_staff_list_is_refused_as_a_whole(data: bytes, code: str) -> None:
    assert refusal(data).problem.code == code


# --- reading XLSX ------------------------------------------------------------------------


def zip_with(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_workbook_with_more_parts_than_the_limit_is_refused_before_unpacking() -> None:
    data = zip_with({f"xl/{number}.xml": b"" for number in range(10_001)})
    problem = refusal(data).problem
    assert problem.code == p.XLSX_TOO_LARGE
    assert "10001 parts" in en(problem.message)


def test_a_workbook_declaring_more_than_the_limit_unpacked_is_refused() -> None:
    data = zip_with({"xl/workbook.xml": b" " * 300_000})
    problem = refusal(data, limit=100 * 1024).problem
    assert problem.code == p.XLSX_TOO_LARGE
    assert "292 KiB, over the limit of 100 KiB" in en(problem.message)


def test_a_zip_of_another_office_format_is_named_in_the_refusal() -> None:
    problem = refusal(zip_with({"xl/workbook.bin": b"", "[Content_Types].xml": b""})).problem
    assert problem.code == p.NOT_A_TABLE
    assert ".xlsb" in en(problem.message)


# --- validating rows ---------------------------------------------------------------------


def table_of(header: list[str], *rows: list[Cell]) -> Table:
    return Table(
        kind="csv",
        header=header,
        rows=iter(list(enumerate(rows, start=2))),
        header_line=1,
    )


def test_a_row_excel_cut_short_after_its_required_values_is_accepted_after_row_16() -> None:
    header = [*HEADER, "functie", "vog_datum"]
    # Excel writes every delimiter in the first 16 rows of the sheet (the header and 15).
    numbers = bsn_stream(3)
    full = [[next(numbers), RECORD[1], "Jansen", "", ""] for _ in range(15)]
    cut = [next(numbers), *RECORD[1:]]
    validated = validate_table(table_of(header, *full, cut), today=TODAY)
    assert validated.problems == []
    assert validated.rows[-1].surname == "Geërts"


def test_a_row_short_of_a_required_value_is_a_short_row() -> None:
    validated = validate_table(table_of(HEADER, RECORD[:2]), today=TODAY)
    assert [(problem.line, problem.code) for problem in validated.problems] == [(2, p.SHORT_ROW)]


@pytest.mark.parametrize("cell", ["1980-05-17 00:00:00", "1980-05-17 00:00", "1980-05-17T00:00:00"])
def test_a_database_export_with_a_midnight_time_is_read_as_the_date(cell: str) -> None:
    assert parse_date(cell) == dt.date(1980, 5, 17)


def test_a_small_number_in_a_date_column_is_not_taken_for_an_excel_serial() -> None:
    with pytest.raises(Exception, match="not a date"):
        parse_date(1980)
    assert parse_date(29358) == dt.date(1980, 5, 17)
