"""Turning an uploaded file into a header and rows of cells.

Accepts CSV (UTF-8 with or without BOM, UTF-16 with BOM as Excel's "Unicode text", or
Windows-1252; delimiter ``;``, ``,`` or tab; any line endings) and XLSX (the first sheet
that is not hidden).
Everything else is refused with a :class:`FileProblem` that says what the file is.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from vogscreen.domain.language import Text, msg
from vogscreen.domain.terms import Cell
from vogscreen.intake import problems as p
from vogscreen.intake.problems import FileProblem
from vogscreen.intake.xlsx_limits import check_shared_strings

_XLSX_MAX_MEMBERS = 10_000
# Excel's most characters in a cell; writers cut a longer value to it, so a cell this long
# was most likely cut (a document pasted into it) and is refused as a CSV field over the
# csv module's limit is.
_XLSX_CELL_LIMIT = 32_767
_SIGNATURES: list[tuple[bytes, Text]] = [
    (b"\x89PNG", msg("this is a PNG image, not a CSV or XLSX staff list")),
    (b"%PDF", msg("this is a PDF document, not a CSV or XLSX staff list")),
    (b"\xff\xd8\xff", msg("this is a JPEG image, not a CSV or XLSX staff list")),
    (b"GIF8", msg("this is a GIF image, not a CSV or XLSX staff list")),
    (b"\x1f\x8b", msg("this is a gzip archive, not a CSV or XLSX staff list")),
    (b"Rar!", msg("this is a RAR archive, not a CSV or XLSX staff list")),
    (b"7z\xbc\xaf", msg("this is a 7-Zip archive, not a CSV or XLSX staff list")),
    (b"{\\rtf", msg("this is an RTF document, not a CSV or XLSX staff list")),
]
# Members that tell which kind of ZIP-based document an upload that is not XLSX is.
_ZIP_KINDS: list[tuple[str, Text]] = [
    ("xl/workbook.bin", msg("this is an Excel binary workbook (.xlsb), not an XLSX workbook")),
    (
        "content.xml",
        msg(
            "this is an OpenDocument file (.ods, from LibreOffice or OpenOffice), "
            "not an XLSX workbook"
        ),
    ),
    ("word/document.xml", msg("this is a Word document, not an XLSX workbook")),
    ("ppt/presentation.xml", msg("this is a PowerPoint presentation, not an XLSX workbook")),
]
_A_ZIP = msg("this is a ZIP archive, not an XLSX workbook")
# A multi-byte UTF-8 sequence; in Windows-1252 text these byte pairs are all but unheard of.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
# Excel writes and reads a first line "sep=;" that names the delimiter.
_SEPARATOR_HINT = re.compile(r"sep=(.)", re.IGNORECASE)


@dataclass
class Table:
    kind: str
    header: list[str]
    rows: Iterator[tuple[int, list[Cell]]]
    header_line: int
    sheet: str | None = None  # the name of the workbook's sheet that was read


def read_table(data: bytes, *, max_unpacked_bytes: int) -> Table:
    if not data.strip():
        raise FileProblem(p.EMPTY_FILE, msg("the file is empty"))
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, max_unpacked_bytes)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        # Office saves a password-protected .xlsx as an OLE2 container around the encrypted
        # package, with the same signature as an old .xls.
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise FileProblem(
                p.PASSWORD_PROTECTED, msg("the workbook is protected with a password")
            )
        raise FileProblem(
            p.LEGACY_EXCEL, msg("this is an old Excel file (.xls), not an .xlsx workbook")
        )
    for signature, what in _SIGNATURES:
        if data.startswith(signature):
            raise FileProblem(p.NOT_A_TABLE, what)
    text = _decode(data)
    if text.lstrip().startswith("<"):
        # Web systems often hand out an HTML table or an XML Spreadsheet 2003 named .xls.
        raise FileProblem(
            p.NOT_A_TABLE,
            msg(
                "this is an HTML or XML file (some systems save those as .xls), not a CSV or "
                "XLSX staff list"
            ),
        )
    return _read_csv(text)


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16").lstrip("\ufeff")
        except UnicodeDecodeError:
            raise FileProblem(
                p.ENCODING, msg("the file claims UTF-16 but is damaged (cut off?)")
            ) from None
    if b"\x00" in data:
        raise FileProblem(p.NOT_A_TABLE, msg("this is a binary file, not a CSV or XLSX staff list"))
    try:
        # A second BOM is what a tool that adds one to text that already has one leaves.
        return data.decode("utf-8-sig").lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        if data.startswith(b"\xef\xbb\xbf") or _UTF8_SEQUENCE.search(data):
            # Read as Windows-1252, every UTF-8 letter of the file would silently turn into
            # two wrong ones ("JosÃ©"): refuse instead.
            raise FileProblem(
                p.ENCODING,
                msg(
                    "the file is UTF-8 text, but line %(line)s is not (parts from different "
                    "exports pasted together, or a cut-off file)",
                    line=_line_of(data, exc.start),
                ),
            ) from None
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise FileProblem(
            p.ENCODING,
            msg(
                "the file is neither UTF-8 nor Windows-1252 text (line %(line)s)",
                line=_line_of(data, exc.start),
            ),
        ) from None


def _line_of(data: bytes, offset: int) -> int:
    return len(data[: offset + 1].splitlines())


def _sniff_delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (";", "\t", ",")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ";"


def _first_line(lines: Iterator[tuple[int, str]]) -> tuple[int, str]:
    for number, line in lines:
        if line.strip().strip(";,\t"):
            return number, line
    raise FileProblem(p.EMPTY_FILE, msg("the file has no header and no rows"))


def _read_csv(text: str) -> Table:
    lines = io.StringIO(text, newline="")
    numbered = enumerate(lines, start=1)
    header_line, first = _first_line(numbered)
    hint = _SEPARATOR_HINT.fullmatch(first.rstrip("\r\n"))
    if hint:
        header_line, first = _first_line(numbered)
    delimiter = hint[1] if hint else _sniff_delimiter(first)
    try:
        header = _trim(next(csv.reader([first], delimiter=delimiter)))
    except csv.Error as exc:
        raise _csv_problem(exc, header_line) from None
    return Table(
        kind="csv",
        header=header,
        rows=_csv_rows(lines, delimiter, header_line, len(header), text.endswith(("\n", "\r"))),
        header_line=header_line,
    )


def _csv_rows(
    lines: io.StringIO, delimiter: str, header_line: int, width: int, terminated: bool
) -> Iterator[tuple[int, list[Cell]]]:
    # strict: a quote that is never closed would otherwise swallow the rest of the file
    # into one value, and the rows in it would silently disappear.
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    consumed = header_line
    last: tuple[int, list[str]] | None = None
    while True:
        line = consumed + 1
        try:
            record = next(reader, None)
        except csv.Error as exc:
            raise _csv_problem(exc, line) from None
        if record is None:
            break
        consumed = header_line + reader.line_num
        if last is not None:
            yield last[0], list(last[1])
        last = line, record
    if last is None:
        return
    line, record = last
    if not terminated and len(record) < width and any(value.strip() for value in record):
        raise FileProblem(
            p.SHORT_ROW,
            msg(
                "the file ends in the middle of line %(line)s: it has %(values)s of the "
                "%(width)s values and no line break (an interrupted download or copy?)",
                line=line,
                values=len(record),
                width=width,
            ),
        )
    yield line, list(record)


def _csv_problem(error: csv.Error, line: int) -> FileProblem:
    """The csv module's refusal in the board's words (the module names no other reasons
    that strict reading of our dialect can give)."""
    if str(error).startswith("field larger than field limit"):
        return FileProblem(
            p.FIELD_TOO_LARGE,
            msg(
                "line %(line)s: a value is longer than %(limit)s characters (a document "
                "pasted into a cell, or a quote that is never closed)",
                line=line,
                limit=csv.field_size_limit(),
            ),
        )
    return FileProblem(
        p.STRAY_QUOTE,
        msg(
            'line %(line)s: a double quote (") opens a value that is not closed where the '
            "value ends",
            line=line,
        ),
    )


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
        raise FileProblem(
            p.XLSX_DAMAGED, msg("the XLSX file is damaged (not a readable ZIP)")
        ) from None
    # Declared sizes bound what zipfile will ever inflate, so checking them here refuses a
    # zip bomb before a single byte is decompressed.
    unpacked = sum(member.file_size for member in members)
    if len(members) > _XLSX_MAX_MEMBERS:
        raise FileProblem(
            p.XLSX_TOO_LARGE,
            msg(
                "the XLSX file holds %(parts)s parts, over the limit of %(limit)s",
                parts=len(members),
                limit=_XLSX_MAX_MEMBERS,
            ),
        )
    if unpacked > max_unpacked_bytes:
        raise FileProblem(
            p.XLSX_TOO_LARGE,
            msg(
                "the XLSX file unpacks to %(size)s, over the limit of %(limit)s",
                size=_size(unpacked),
                limit=_size(max_unpacked_bytes),
            ),
        )
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        what = next((kind for part, kind in _ZIP_KINDS if part in names), _A_ZIP)
        raise FileProblem(p.NOT_A_TABLE, what)
    try:
        bad = archive.testzip() if len(data) < 5 * 1024 * 1024 else None
    except (zlib.error, EOFError, RuntimeError, NotImplementedError, OSError):
        # a broken deflate stream, an encrypted part, a compression zipfile does not know
        bad = "?"
    if bad is not None:
        raise FileProblem(
            p.XLSX_DAMAGED, msg("the XLSX file is damaged (a part fails its checksum)")
        )
    check_shared_strings(archive, names)
    import openpyxl  # imported here: a second or so of import time that CSV users never pay

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            # A hidden sheet is what the board does not see: often an old list, or lookups.
            sheet = next((s for s in workbook.worksheets if s.sheet_state == "visible"), None)
            if sheet is None:
                raise FileProblem(p.NO_VISIBLE_SHEET, msg("every sheet of the workbook is hidden"))
            # The <dimension> a writer declares can be wrong, and read-only mode would stop
            # at it, silently dropping the rows below: read what is there instead.
            sheet.reset_dimensions()
            rows = sheet.iter_rows(values_only=True)
            header_line, header_cells = _first_nonblank(rows)
    except FileProblem:
        raise
    except Exception:  # openpyxl raises many kinds on a damaged file; all mean the same here
        raise FileProblem(
            p.XLSX_DAMAGED, msg("the XLSX file is damaged and cannot be read")
        ) from None
    header = _trim(["" if cell is None else str(cell) for cell in header_cells])
    if any(len(name) >= _XLSX_CELL_LIMIT for name in header):
        raise _xlsx_too_large(header_line)
    return Table(
        kind="xlsx",
        header=header,
        rows=_xlsx_rows(rows, header_line),
        header_line=header_line,
        sheet=sheet.title,
    )


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count // (1024 * 1024)} MiB"
    return f"{count // 1024} KiB"


def _first_nonblank(rows: Iterator[tuple[object, ...]]) -> tuple[int, tuple[object, ...]]:
    for number, row in enumerate(rows, start=1):
        if any(cell not in (None, "") for cell in row):
            return number, row
    raise FileProblem(p.EMPTY_FILE, msg("the first visible sheet of the workbook is empty"))


def _xlsx_rows(
    rows: Iterator[tuple[object, ...]], header_line: int
) -> Iterator[tuple[int, list[Cell]]]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for number, row in enumerate(rows, start=header_line + 1):
                cells = [_cell(value) for value in row]
                if any(type(cell) is str and len(cell) >= _XLSX_CELL_LIMIT for cell in cells):
                    raise _xlsx_too_large(number)
                yield number, cells
    except FileProblem:
        raise
    except Exception:
        raise FileProblem(
            p.XLSX_DAMAGED, msg("the XLSX file is damaged part-way through")
        ) from None


def _xlsx_too_large(line: int) -> FileProblem:
    return FileProblem(
        p.FIELD_TOO_LARGE,
        msg(
            "line %(line)s: a cell holds %(limit)s characters or more, the most a cell may "
            "hold (a document pasted into it, or a value cut off)",
            line=line,
            limit=_XLSX_CELL_LIMIT,
        ),
    )


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float | dt.date):
        return value
    if isinstance(value, dt.time):
        return value.isoformat()
    return str(value)
