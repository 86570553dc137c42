"""Turning an uploaded file into a header and rows of cells.

Accepts CSV (UTF-8 with or without BOM, UTF-16 with BOM as Excel's "Unicode text", or
Windows-1252; delimiter ``;``, ``,`` or tab; any line endings) and XLSX (first sheet).
Everything else is refused with a :class:`FileProblem` that says what the file is.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from vogscreen.intake import problems as p
from vogscreen.intake.problems import FileProblem

Cell = str | int | float | dt.date | dt.datetime | None

_XLSX_MAX_MEMBERS = 10_000
_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\x89PNG", "a PNG image"),
    (b"%PDF", "a PDF document"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"{\\rtf", "an RTF document"),
]


@dataclass
class Table:
    kind: str
    header: list[str]
    rows: Iterator[tuple[int, list[Cell]]]
    header_line: int


def read_table(data: bytes, *, max_unpacked_bytes: int) -> Table:
    if not data.strip():
        raise FileProblem(p.EMPTY_FILE, "the file is empty")
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, max_unpacked_bytes)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(
            p.LEGACY_EXCEL,
            "this is an old Excel file (.xls); save it as .xlsx or as CSV and upload again",
        )
    for signature, what in _SIGNATURES:
        if data.startswith(signature):
            raise FileProblem(p.NOT_A_TABLE, f"this is {what}, not a CSV or XLSX staff list")
    return _read_csv(_decode(data))


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise FileProblem(p.ENCODING, "the file claims UTF-16 but is damaged") from None
    if b"\x00" in data:
        raise FileProblem(p.NOT_A_TABLE, "this is a binary file, not a CSV or XLSX staff list")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise FileProblem(
            p.ENCODING,
            f"the file is neither UTF-8 nor Windows-1252 text (byte {exc.start + 1}); "
            "export it again as CSV UTF-8",
        ) from None


def _sniff_delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (";", "\t", ",")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ";"


def _read_csv(text: str) -> Table:
    lines = io.StringIO(text, newline="")
    header_line = 0
    first = ""
    for header_line, first in enumerate(lines, start=1):  # noqa: B007 - used after the loop
        if first.strip().strip(";,\t"):
            break
    else:
        raise FileProblem(p.EMPTY_FILE, "the file has no header and no rows")
    delimiter = _sniff_delimiter(first)
    header = next(csv.reader([first], delimiter=delimiter))
    return Table(
        kind="csv",
        header=_trim(header),
        rows=_csv_rows(lines, delimiter, header_line),
        header_line=header_line,
    )


def _csv_rows(
    lines: io.StringIO, delimiter: str, header_line: int
) -> Iterator[tuple[int, list[Cell]]]:
    reader = csv.reader(lines, delimiter=delimiter)
    consumed = header_line
    for record in reader:
        line = consumed + 1
        consumed = header_line + reader.line_num
        yield line, list(record)


def _trim(values: list[str]) -> list[str]:
    """Drop the empty columns Excel leaves at the end of a header."""
    end = len(values)
    while end and not values[end - 1].strip():
        end -= 1
    return values[:end]


def _read_xlsx(data: bytes, max_unpacked_bytes: int) -> Table:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileProblem(p.XLSX_DAMAGED, "the XLSX file is damaged (not a readable ZIP)") from None
    # Declared sizes bound what zipfile will ever inflate, so checking them here refuses a
    # zip bomb before a single byte is decompressed.
    unpacked = sum(member.file_size for member in members)
    if len(members) > _XLSX_MAX_MEMBERS or unpacked > max_unpacked_bytes:
        raise FileProblem(
            p.XLSX_TOO_LARGE,
            f"the XLSX file unpacks to {unpacked // (1024 * 1024)} MiB, over the limit of "
            f"{max_unpacked_bytes // (1024 * 1024)} MiB",
        )
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        raise FileProblem(p.NOT_A_TABLE, "this is a ZIP archive, not an XLSX workbook")
    bad = archive.testzip() if len(data) < 5 * 1024 * 1024 else None
    if bad is not None:
        raise FileProblem(p.XLSX_DAMAGED, "the XLSX file is damaged (a part fails its checksum)")
    import openpyxl  # imported here: a second or so of import time that CSV users never pay

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheet = workbook.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            header_line, header_cells = _first_nonblank(rows)
    except FileProblem:
        raise
    except Exception:  # openpyxl raises many kinds on a damaged file; all mean the same here
        raise FileProblem(p.XLSX_DAMAGED, "the XLSX file is damaged and cannot be read") from None
    header = _trim(["" if cell is None else str(cell) for cell in header_cells])
    return Table(
        kind="xlsx",
        header=header,
        rows=_xlsx_rows(rows, header_line),
        header_line=header_line,
    )


def _first_nonblank(rows: Iterator[tuple[object, ...]]) -> tuple[int, tuple[object, ...]]:
    for number, row in enumerate(rows, start=1):
        if any(cell not in (None, "") for cell in row):
            return number, row
    raise FileProblem(p.EMPTY_FILE, "the first sheet of the workbook is empty")


def _xlsx_rows(
    rows: Iterator[tuple[object, ...]], header_line: int
) -> Iterator[tuple[int, list[Cell]]]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for number, row in enumerate(rows, start=header_line + 1):
                yield number, [_cell(value) for value in row]
    except FileProblem:
        raise
    except Exception:
        raise FileProblem(p.XLSX_DAMAGED, "the XLSX file is damaged part-way through") from None


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float | dt.date):
        return value
    if isinstance(value, dt.time):
        return value.isoformat()
    return str(value)
