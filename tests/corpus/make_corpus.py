"""Writes the corpus of staff lists: files intake must refuse (bad/) and files it must take (good/).

Every bad file is a different real-world failure; ``bad/MANIFEST.toml`` names the problem
codes each must produce and the failure it stands for. ``good/MANIFEST.toml`` gives the rows
and surnames each good file must yield. The output is deterministic: BSNs come from
:mod:`vogscreen.testing` (valid, seeded, nobody's), XLSX files are written by openpyxl with
fixed timestamps. Regenerate after a change here with::

    .venv/bin/python -m tests.corpus.make_corpus
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import random
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import openpyxl
from openpyxl.writer.excel import ExcelWriter

from vogscreen.intake import problems as p
from vogscreen.testing import HEADER, FakeEmployee, fake_employees

HERE = Path(__file__).parent
MiB = 1024 * 1024
_ZIP_TIME = (2026, 1, 5, 9, 0, 0)
_SAVED_AT = dt.datetime(2026, 1, 5, 9, 0)
_WITH_FIRST_NAMES = (*HEADER[:5], "voornamen", *HEADER[5:])


def _leading_zero_bsn() -> str:
    """A valid BSN that starts with 0: the one a spreadsheet shows with 8 digits."""
    weights = (9, 8, 7, 6, 5, 4, 3, 2)
    for body in range(1_234_567, 9_999_999):
        digits = f"0{body:07d}"
        check = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
        if check < 10:
            return digits + str(check)
    raise AssertionError("unreachable")


# The people in the files. Tests read these to check that no report shows a BSN or birth date.
PEOPLE = fake_employees(6, seed=31, brin="06XY")
STAFF = fake_employees(10, seed=41, brin="06XY")
LONG_STAFF = fake_employees(20, seed=43, brin="06XY")
LEADING_ZERO_BSN = _leading_zero_bsn()
XLSX_STAFF = [replace(STAFF[0], bsn=LEADING_ZERO_BSN), *STAFF[1:]]
ACCENTED = [
    replace(employee, prefix="", surname=surname)
    for employee, surname in zip(
        STAFF[:6], ["Geërts", "Hoëvenaars", "Citroën", "Öztürk", "Müller", "Nuñez"], strict=True
    )
]
SECRET_VALUES = [
    PEOPLE[1].bsn[:-1] + str((int(PEOPLE[1].bsn[-1]) + 1) % 10),  # fails the 11-check
    PEOPLE[1].bsn[2:],  # seven digits
    PEOPLE[1].bsn[:4] + "O" + PEOPLE[1].bsn[5:],  # a letter O for a zero
    "31-02-1980",
    "2031-04-01",
    "1885-03-12",
    "17-05-80",
    "29221",
    "1,23457E+08",
    "123456789",
    "2019-08-01",
]


def secrets() -> set[str]:
    """Every BSN and birth date in the corpus, in the forms a report might show them."""
    values = set(SECRET_VALUES) | {LEADING_ZERO_BSN, LEADING_ZERO_BSN[1:]}
    for employee in (*PEOPLE, *STAFF, *LONG_STAFF, *ACCENTED):
        values |= {
            employee.bsn,
            employee.birth_date.isoformat(),
            employee.birth_date.strftime("%d-%m-%Y"),
        }
    return values


@dataclass(frozen=True)
class Case:
    name: str
    failure: str
    make: Callable[[], bytes]
    codes: tuple[str, ...] = ()
    rows: int = 0
    surnames: tuple[str, ...] = ()
    settings: dict[str, int] = field(default_factory=dict)


BAD: list[Case] = []
GOOD: list[Case] = []


def bad(
    name: str, failure: str, *codes: str, **settings: int
) -> Callable[[Callable[[], bytes]], Callable[[], bytes]]:
    def register(make: Callable[[], bytes]) -> Callable[[], bytes]:
        BAD.append(Case(name, failure, make, codes=codes, settings=settings))
        return make

    return register


def good(
    name: str, quirk: str, people: Sequence[FakeEmployee]
) -> Callable[[Callable[[], bytes]], Callable[[], bytes]]:
    def register(make: Callable[[], bytes]) -> Callable[[], bytes]:
        surnames = tuple(sorted(employee.surname for employee in people))
        GOOD.append(Case(name, quirk, make, rows=len(people), surnames=surnames))
        return make

    return register


# --- building blocks -------------------------------------------------------------------


def row(employee: FakeEmployee, header: Sequence[str] = HEADER, **changes: str) -> list[str]:
    values = dict(zip(HEADER, employee.cells(), strict=True))
    values["voornamen"] = ""
    values.update(changes)
    return [values[column] for column in header]


def table(
    rows: Iterable[Sequence[str]],
    *,
    header: Sequence[str] = HEADER,
    delimiter: str = ";",
    newline: str = "\r\n",
    quoting: int = csv.QUOTE_MINIMAL,
) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline, quoting=quoting)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def staff(people: Sequence[FakeEmployee], *, delimiter: str = ";", newline: str = "\r\n") -> str:
    return table((row(employee) for employee in people), delimiter=delimiter, newline=newline)


def _zip(members: Iterable[tuple[str, bytes]], *, stored: Sequence[str] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def xlsx(
    *sheets: Sequence[Sequence[object]],
    patch: Callable[[str, bytes], bytes] = lambda name, data: data,
) -> bytes:
    """A workbook written by openpyxl; each argument is one sheet's rows."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for number, rows in enumerate(sheets, start=1):
        sheet = workbook.create_sheet(f"Blad{number}")
        for cells in rows:
            sheet.append(list(cells))
    workbook.properties.created = workbook.properties.modified = _SAVED_AT
    buffer = io.BytesIO()
    # ExcelWriter rather than workbook.save(), which stamps the current time into the file.
    ExcelWriter(workbook, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return _zip((name, patch(name, data)) for name, data in _members(buffer.getvalue()))


def xlsx_cells(employee: FakeEmployee) -> list[object]:
    """A row as Excel holds it: the BSN a number, dates date cells."""
    return [
        int(employee.bsn),
        employee.birth_date,
        employee.surname,
        employee.prefix or None,
        employee.initials,
        employee.personeelsnummer,
        employee.brin,
        employee.function,
        employee.start_date,
        employee.end_date,
        employee.vog_date,
    ]


def _pack(fields: Sequence[tuple[str, object]]) -> bytes:
    return struct.pack("<" + "".join(kind for kind, _ in fields), *(value for _, value in fields))


_END, _FREE, _NONE = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF


def ole2(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE2 compound file: the container of .xls and of encrypted Office files.

    Sector 0 holds the FAT, sector 1 the directory, the streams follow. Streams are padded to
    4096 bytes, so that they live in ordinary sectors and no mini stream is needed.
    """
    sector = 512
    bodies = [data.ljust(4096, b"\0") for data in streams.values()]
    fat = [0xFFFFFFFD, _END]  # the FAT's own sector, the directory's one-sector chain
    starts = []
    for body in bodies:
        count = -(-len(body) // sector)
        starts.append(len(fat))
        fat += [len(fat) + i + 1 for i in range(count - 1)] + [_END]
    assert len(fat) <= sector // 4, "one FAT sector is enough for this corpus"
    entries = [_directory_entry("Root Entry", 5, child=1, start=_END, size=0)]
    for number, (name, body, start) in enumerate(zip(streams, bodies, starts, strict=True), 1):
        right = number + 1 if number < len(streams) else _NONE
        entries.append(_directory_entry(name, 2, right=right, start=start, size=len(body)))
    while len(entries) % 4:
        entries.append(_directory_entry("", 0, start=0, size=0))
    header = _pack(
        [
            ("8s", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
            ("16s", b""),  # class id
            ("H", 0x3E),  # minor version
            ("H", 3),  # major version 3: 512-byte sectors
            ("H", 0xFFFE),  # little-endian
            ("H", 9),  # sector size 2**9
            ("H", 6),  # mini sector size 2**6
            ("6s", b""),
            ("I", 0),  # directory sectors: always 0 in version 3
            ("I", 1),  # FAT sectors
            ("I", 1),  # first directory sector
            ("I", 0),  # transaction signature
            ("I", 4096),  # mini stream cutoff
            ("I", _END),  # first mini FAT sector: none
            ("I", 0),  # mini FAT sectors
            ("I", _END),  # first DIFAT sector: none
            ("I", 0),  # DIFAT sectors
            ("I", 0),  # the FAT is in sector 0
            (f"{108 * 4}s", b"\xff" * 108 * 4),  # the other 108 header DIFAT slots: free
        ]
    )
    fat_sector = struct.pack(f"<{len(fat)}I", *fat).ljust(sector, b"\xff")
    data = b"".join(body.ljust(-(-len(body) // sector) * sector, b"\0") for body in bodies)
    return header + fat_sector + b"".join(entries) + data


def _directory_entry(
    name: str, kind: int, *, child: int = _NONE, right: int = _NONE, start: int, size: int
) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return _pack(
        [
            ("64s", encoded),
            ("H", len(encoded)),
            ("B", kind),  # 5 root, 2 stream, 0 unused
            ("B", 1),  # black
            ("I", _NONE),  # left sibling
            ("I", right),  # right sibling
            ("I", child),
            ("16s", b""),  # class id
            ("I", 0),  # state bits
            ("Q", 0),  # created
            ("Q", 0),  # modified
            ("I", start),
            ("Q", size),
        ]
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png() -> bytes:
    """A 4×4 grey screenshot, as real a PNG as any."""
    pixels = b"".join(b"\0" + b"\x80" * 4 for _ in range(4))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(pixels, 9))
        + _png_chunk(b"IEND", b"")
    )


def _pseudo_random(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _sheet_xml(body: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData>" + body + b"</sheetData></worksheet>"
    )


def zip_bomb(unpacked_mib: int) -> bytes:
    """A genuine workbook whose sheet inflates to ``unpacked_mib`` MiB of blanks."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in _members(xlsx([HEADER])):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name != "xl/worksheets/sheet1.xml":
                archive.writestr(info, data)
                continue
            head, tail = _sheet_xml(b"\0").split(b"\0")
            with archive.open(info, "w") as member:
                member.write(head)
                blanks = b" " * MiB
                for _ in range(unpacked_mib):
                    member.write(blanks)
                member.write(tail)
    return out.getvalue()


def _declare_size(data: bytes, member: str, size: int) -> bytes:
    """Make ``member`` claim ``size`` bytes unpacked, in its local and central headers."""
    patched = bytearray(data)
    encoded = member.encode()
    end = data.rindex(b"PK\x05\x06")
    (offset,) = struct.unpack_from("<I", data, end + 16)
    while data[offset : offset + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, offset + 28)
        name = data[offset + 46 : offset + 46 + name_length]
        if name == encoded:
            struct.pack_into("<I", patched, offset + 24, size)
            (local,) = struct.unpack_from("<I", data, offset + 42)
            struct.pack_into("<I", patched, local + 22, size)
        offset += 46 + name_length + extra_length + comment_length
    return bytes(patched)


def _corrupt_member(data: bytes, member: str) -> bytes:
    """Flip bits in the middle of one member's compressed bytes, as a bad disk sector does."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length + info.compress_size // 3
    damaged = bytearray(data)
    for position in range(start, start + 24):
        damaged[position] ^= 0x5A
    return bytes(damaged)


# --- bad files ---------------------------------------------------------------------------


@bad("screenshot.csv", "a screenshot of the staff list (PNG) renamed to .csv", p.NOT_A_TABLE)
def _() -> bytes:
    return png()


@bad("printed_to_pdf.csv", "the staff list printed to PDF and renamed", p.NOT_A_TABLE)
def _() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
        b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


@bad("excel_97.xls", "saved by Excel as 'Excel 97-2003 Workbook' (.xls)", p.LEGACY_EXCEL)
def _() -> bytes:
    bof = struct.pack("<HHHHHHII", 0x0809, 16, 0x0600, 0x0005, 0x2775, 0x07CD, 0, 0x0206)
    return ole2({"Workbook": bof + struct.pack("<HH", 0x000A, 0)})


@bad(
    "password_protected.xlsx",
    "an XLSX with 'Protect workbook with password' (Office wraps it in an encrypted container)",
    p.PASSWORD_PROTECTED,
)
def _() -> bytes:
    info = b"\x04\x00\x04\x00\x40\x00\x00\x00" + (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        b'<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption">'
        b'<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" '
        b'cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512"/>'
        b"</encryption>"
    )
    package = struct.pack("<Q", 6000) + _pseudo_random(6008, seed=7)
    return ole2({"EncryptionInfo": info, "EncryptedPackage": package})


@bad("zip_of_exports.xlsx", "a ZIP of CSV exports renamed to .xlsx", p.NOT_A_TABLE)
def _() -> bytes:
    return _zip([("personeel.csv", staff(PEOPLE).encode())])


@bad("libreoffice.ods", "saved by LibreOffice Calc in its own format (.ods)", p.NOT_A_TABLE)
def _() -> bytes:
    cells = "".join(
        f"<table:table-cell><text:p>{name}</text:p></table:table-cell>" for name in HEADER
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
        f"<office:spreadsheet><table:table><table:table-row>{cells}</table:table-row>"
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        "</manifest:manifest>"
    )
    return _zip(
        [
            ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
            ("content.xml", content.encode()),
            ("META-INF/manifest.xml", manifest.encode()),
        ],
        stored=["mimetype"],
    )


@bad("interrupted_download.xlsx", "an XLSX cut off half-way by a failed download", p.XLSX_DAMAGED)
def _() -> bytes:
    data = xlsx([HEADER, *(xlsx_cells(employee) for employee in PEOPLE)])
    return data[: len(data) // 2]


@bad("bad_sector.xlsx", "an XLSX with flipped bits inside its sheet", p.XLSX_DAMAGED)
def _() -> bytes:
    data = xlsx([HEADER, *(xlsx_cells(employee) for employee in PEOPLE)])
    return _corrupt_member(data, "xl/worksheets/sheet1.xml")


@bad("zip_bomb.xlsx", "a workbook that inflates to 300 MiB (a zip bomb)", p.XLSX_TOO_LARGE)
def _() -> bytes:
    return zip_bomb(300)


@bad(
    "zip_bomb_lying_sizes.xlsx",
    "a zip bomb that declares a small size for its 300 MiB sheet",
    p.XLSX_DAMAGED,
)
def _() -> bytes:
    return _declare_size(zip_bomb(300), "xl/worksheets/sheet1.xml", 64 * 1024)


@bad(
    "billion_laughs.xlsx", "an XLSX whose sheet XML expands entities exponentially", p.XLSX_DAMAGED
)
def _() -> bytes:
    entities = b'<!ENTITY lol0 "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (level, b"&lol%d;" % (level - 1) * 10) for level in range(1, 10)
    )

    def bomb(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        cells = b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        xml = _sheet_xml(cells)
        head, rest = xml.split(b"\n", 1)
        return head + b"\n<!DOCTYPE worksheet [" + entities + b"]>\n" + rest

    return xlsx([HEADER], patch=bomb)


@bad("empty.csv", "an empty file (an export that failed silently)", p.EMPTY_FILE)
def _() -> bytes:
    return b""


@bad("only_blank_lines.csv", "nothing but blank lines and spaces", p.EMPTY_FILE)
def _() -> bytes:
    return b"\r\n   \r\n\t\r\n\r\n"


@bad("header_only.csv", "the header without any rows (an empty selection exported)", p.NO_ROWS)
def _() -> bytes:
    return table([]).encode()


@bad("header_and_excel_blank_lines.csv", "a header and the ;;;; lines Excel leaves", p.NO_ROWS)
def _() -> bytes:
    return (table([]) + (";" * (len(HEADER) - 1) + "\r\n") * 5).encode()


@bad("no_bsn_column.csv", "the BSN column left out of the export", p.MISSING_COLUMN)
def _() -> bytes:
    header = HEADER[1:]
    return table((row(employee, header) for employee in PEOPLE), header=header).encode()


@bad("no_birth_date_column.csv", "the birth date column left out of the export", p.MISSING_COLUMN)
def _() -> bytes:
    header = [column for column in HEADER if column != "geboortedatum"]
    return table((row(employee, header) for employee in PEOPLE), header=header).encode()


@bad(
    "bsn_and_burgerservicenummer.csv",
    "two columns that both mean BSN (BSN and Burgerservicenummer)",
    p.DUPLICATE_COLUMN,
)
def _() -> bytes:
    header = [*HEADER, "Burgerservicenummer"]
    rows = (row(employee, header, Burgerservicenummer=employee.bsn) for employee in PEOPLE)
    return table(rows, header=header).encode()


@bad(
    "title_row_above_header.csv",
    "a title line ('Personeelslijst per ...') above the header",
    p.MISSING_COLUMN,
)
def _() -> bytes:
    title = "Personeelslijst Stichting Testscholen per 01-06-2026" + ";" * (len(HEADER) - 1)
    return (title + "\r\n" + staff(PEOPLE)).encode()


@bad("cut_off_last_line.csv", "a file cut off in the middle of its last line", p.SHORT_ROW)
def _() -> bytes:
    text = staff(PEOPLE)
    last = text.rindex(PEOPLE[-1].bsn)
    return text[: last + len(PEOPLE[-1].bsn) + 8].encode()


@bad(
    "row_pasted_into_one_cell.csv",
    "a row pasted as text into one cell, so it is one quoted value",
    p.SHORT_ROW,
)
def _() -> bytes:
    rows = [row(employee) for employee in PEOPLE]
    rows[2] = [";".join(rows[2])]
    return table(rows).encode()


@bad(
    "mixed_delimiters.csv",
    "rows from a comma export appended to a semicolon export",
    p.SHORT_ROW,
)
def _() -> bytes:
    text = (
        staff(PEOPLE[:3]) + table((row(e) for e in PEOPLE[3:]), delimiter=",").split("\r\n", 1)[1]
    )
    return text.encode()


@bad(
    "comma_in_unquoted_value.csv",
    "a comma-separated file with 'leerkracht, groep 3' not quoted",
    p.LONG_ROW,
)
def _() -> bytes:
    rows = [row(employee) for employee in PEOPLE]
    rows[1][HEADER.index("functie")] = "leerkracht, groep 3"
    return "".join(",".join(cells) + "\r\n" for cells in [list(HEADER), *rows]).encode()


@bad(
    "unclosed_quote.csv",
    "a double quote typed for the apostrophe of 't Hart, never closed",
    p.STRAY_QUOTE,
)
def _() -> bytes:
    rows = [row(employee) for employee in PEOPLE]
    rows[2][HEADER.index("achternaam")] = '"t Hart'
    rows[2][HEADER.index("tussenvoegsel")] = ""
    return "".join(";".join(cells) + "\r\n" for cells in [list(HEADER), *rows]).encode()


def _with(index: int, **changes: str) -> bytes:
    """PEOPLE as a semicolon CSV, with some values of one row changed."""
    rows = [row(employee) for employee in PEOPLE]
    rows[index] = row(PEOPLE[index], **changes)
    return table(rows).encode()


@bad("bsn_fails_elfproef.csv", "a BSN with one digit mistyped (fails the 11-check)", p.BSN_INVALID)
def _() -> bytes:
    return _with(1, bsn=SECRET_VALUES[0])


@bad("bsn_seven_digits.csv", "a BSN that lost two digits", p.BSN_INVALID)
def _() -> bytes:
    return _with(1, bsn=SECRET_VALUES[1])


@bad("bsn_letter_o.csv", "a BSN typed with the letter O for a zero", p.BSN_INVALID)
def _() -> bytes:
    return _with(1, bsn=SECRET_VALUES[2])


@bad(
    "bsn_scientific_notation.csv",
    "BSNs that Dutch Excel turned into 1,23457E+08 before saving as CSV",
    p.BSN_INVALID,
)
def _() -> bytes:
    return _with(3, bsn="1,23457E+08")


@bad("bsn_empty.csv", "a new hire whose BSN is not known yet", p.MISSING_VALUE)
def _() -> bytes:
    return _with(4, bsn="")


@bad("surname_empty.csv", "a row without a surname", p.MISSING_VALUE)
def _() -> bytes:
    return _with(2, achternaam="", tussenvoegsel="")


@bad(
    "duplicate_bsn.csv",
    "one person on two rows, once for each school of the board",
    p.DUPLICATE_BSN,
)
def _() -> bytes:
    second = row(PEOPLE[1], personeelsnummer="P9990001", brin="07ZZ")
    return table([*(row(employee) for employee in PEOPLE), second]).encode()


@bad(
    "duplicate_personeelsnummer.csv",
    "two people given the same personeelsnummer",
    p.DUPLICATE_PERSONEELSNUMMER,
)
def _() -> bytes:
    return _with(4, personeelsnummer=PEOPLE[0].personeelsnummer)


@bad("birth_date_31_february.csv", "a birth date that does not exist (31-02)", p.DATE_INVALID)
def _() -> bytes:
    return _with(0, geboortedatum="31-02-1980")


@bad("birth_date_two_digit_year.csv", "a birth date with a two-digit year", p.DATE_INVALID)
def _() -> bytes:
    return _with(1, geboortedatum="17-05-80")


@bad(
    "birth_date_excel_serial.csv",
    "a birth date column that lost its date format (29221 instead of 1980-01-01)",
    p.DATE_INVALID,
)
def _() -> bytes:
    return _with(2, geboortedatum="29221")


@bad("american_date.csv", "a start date in US format (12/31/2020)", p.DATE_INVALID)
def _() -> bytes:
    return _with(3, datum_in_dienst="12/31/2020")


@bad("birth_date_in_future.csv", "a birth date in the future (a mistyped year)", p.DATE_IN_FUTURE)
def _() -> bytes:
    return _with(4, geboortedatum="2031-04-01")


@bad("birth_date_1885.csv", "a birth date before 1900 (1885 for 1985)", p.DATE_IMPLAUSIBLE)
def _() -> bytes:
    return _with(5, geboortedatum="1885-03-12")


@bad(
    "birth_and_start_date_swapped.csv",
    "birth date and start date swapped, so the 'birth' is in 2019",
    p.DATE_IMPLAUSIBLE,
)
def _() -> bytes:
    return _with(1, geboortedatum="2019-08-01", datum_in_dienst=PEOPLE[1].birth_date.isoformat())


@bad("vog_date_in_future.csv", "a VOG date in the future", p.DATE_IN_FUTURE)
def _() -> bytes:
    return _with(2, vog_datum="2027-03-01")


@bad("leaving_before_starting.csv", "datum_uit_dienst before datum_in_dienst", p.DATE_ORDER)
def _() -> bytes:
    employee = PEOPLE[3]
    return _with(3, datum_uit_dienst=(employee.start_date - dt.timedelta(days=30)).isoformat())


@bad("brin_location_digit_missing.csv", "a BRIN with one location digit (06XY1)", p.BRIN_INVALID)
def _() -> bytes:
    return _with(0, brin="06XY1")


@bad(
    "note_pasted_in_surname.csv",
    "an HR note pasted into the surname cell (over 200 characters)",
    p.VALUE_TOO_LONG,
)
def _() -> bytes:
    note = "Jansen (let op: " + "contract loopt af, navragen bij salarisadministratie; " * 5 + ")"
    return _with(2, achternaam=note)


@bad(
    "dos_code_page_850.csv",
    "an export from an old system in DOS code page 850 (ü is byte 0x81)",
    p.ENCODING,
)
def _() -> bytes:
    rows = [row(employee) for employee in PEOPLE]
    rows[1][HEADER.index("achternaam")] = "Müller"
    return table(rows).encode("cp850")


@bad(
    "utf8_and_windows1252_pasted_together.csv",
    "a UTF-8 export with rows pasted from a Windows-1252 file",
    p.ENCODING,
)
def _() -> bytes:
    first = [row(employee, achternaam="Geërts") for employee in PEOPLE[:3]]
    second = [row(employee, achternaam="Hoëvenaars") for employee in PEOPLE[3:]]
    lines = table(second).split("\r\n", 1)[1]
    return table(first).encode("utf-8") + lines.encode("cp1252")


@bad("unicode_text_cut_off.txt", "Excel 'Unicode text' (UTF-16) cut off mid-character", p.ENCODING)
def _() -> bytes:
    data = ("\ufeff" + staff(PEOPLE, delimiter="\t")).encode("utf-16-le")
    return data[: len(data) // 2 * 2 - 101]


@bad("database_file.csv", "the HR program's database file (binary, NUL bytes)", p.NOT_A_TABLE)
def _() -> bytes:
    header = b"SQLite format 3\0" + struct.pack(
        ">HBBBBBBIIIIIIIIIIII", 4096, 1, 1, 0, 64, 32, 32, *[0] * 12
    )
    return header.ljust(4096, b"\0")


@bad(
    "web_export_html.xls",
    "a web HR system's 'Excel' export, really an HTML table",
    p.NOT_A_TABLE,
)
def _() -> bytes:
    cells = "".join(f"<td>{name}</td>" for name in HEADER)
    return (
        '\r\n<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head>'
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>'
        f"<body><table><tr>{cells}</tr></table></body></html>\r\n"
    ).encode()


@bad(
    "xml_spreadsheet_2003.xml",
    "saved as 'XML Spreadsheet 2003'",
    p.NOT_A_TABLE,
)
def _() -> bytes:
    cells = "".join(f'<Cell><Data ss:Type="String">{name}</Data></Cell>' for name in HEADER)
    return (
        '<?xml version="1.0"?>\r\n<?mso-application progid="Excel.Sheet"?>\r\n'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">'
        f'<Worksheet ss:Name="Blad1"><Table><Row>{cells}</Row></Table></Worksheet></Workbook>\r\n'
    ).encode()


@bad("gzipped.csv", "a gzip-compressed CSV, downloaded without unpacking", p.NOT_A_TABLE)
def _() -> bytes:
    return gzip.compress(staff(PEOPLE).encode(), mtime=0)


@bad(
    "xlsx_bsn_fails_elfproef.xlsx",
    "an XLSX with a BSN number cell failing the 11-check",
    p.BSN_INVALID,
)
def _() -> bytes:
    rows = [xlsx_cells(employee) for employee in PEOPLE]
    rows[3][0] = int(SECRET_VALUES[0])
    return xlsx([HEADER, *rows])


@bad(
    "xlsx_vlookup_errors.xlsx",
    "an XLSX whose BSN column is a VLOOKUP that shows #N/A",
    p.BSN_INVALID,
)
def _() -> bytes:
    rows = [xlsx_cells(employee) for employee in PEOPLE]
    rows[1][0] = rows[4][0] = "#N/A"
    return xlsx([HEADER, *rows])


@bad(
    "xlsx_first_sheet_empty.xlsx",
    "an XLSX whose staff are on the second sheet; the first is empty",
    p.EMPTY_FILE,
)
def _() -> bytes:
    return xlsx([], [HEADER, *(xlsx_cells(employee) for employee in PEOPLE)])


@bad("xlsx_header_only.xlsx", "an XLSX with a header and no rows", p.NO_ROWS)
def _() -> bytes:
    return xlsx([HEADER])


@bad(
    "too_big.csv",
    "a file over the upload limit (the limit is lowered for this file)",
    p.FILE_TOO_LARGE,
    max_upload_bytes=512,
)
def _() -> bytes:
    return staff(PEOPLE).encode()


# --- good files --------------------------------------------------------------------------


@good("excel_csv_utf8.csv", "Excel 'CSV UTF-8': BOM, CRLF, semicolons, accents", ACCENTED)
def _() -> bytes:
    return ("\ufeff" + staff(ACCENTED)).encode()


@good("excel_csv_windows1252.csv", "Excel 'CSV (;)' in Windows-1252 with é/ë/ö/ü/ñ", ACCENTED)
def _() -> bytes:
    return staff(ACCENTED).encode("cp1252")


@good("excel_unicode_text.txt", "Excel 'Unicode text': UTF-16 LE with BOM, tabs", ACCENTED)
def _() -> bytes:
    return ("\ufeff" + staff(ACCENTED, delimiter="\t")).encode("utf-16-le")


@good("utf8_lf_no_final_newline.csv", "UTF-8 without BOM, LF, no final line break", ACCENTED)
def _() -> bytes:
    return staff(ACCENTED, newline="\n").rstrip("\n").encode()


@good("double_bom.csv", "UTF-8 with the BOM written twice by a second tool", STAFF)
def _() -> bytes:
    return ("\ufeff\ufeff" + staff(STAFF)).encode()


@good("tab_delimited.txt", "tab-delimited text", STAFF)
def _() -> bytes:
    return staff(STAFF, delimiter="\t").encode()


@good("comma_delimited_quoted.csv", "commas, every value quoted, quotes and commas inside", STAFF)
def _() -> bytes:
    rows = [row(employee) for employee in STAFF]
    rows[1][HEADER.index("functie")] = "leerkracht, groep 3"
    rows[2][HEADER.index("functie")] = 'leerkracht "plus"'
    return table(rows, delimiter=",", quoting=csv.QUOTE_ALL).encode()


@good("old_mac_line_endings.csv", "old-Mac CR line endings", STAFF)
def _() -> bytes:
    return staff(STAFF, newline="\r").encode()


@good("excel_sep_hint.csv", "a first line sep=, as Excel writes and reads it", STAFF)
def _() -> bytes:
    return ("sep=,\r\n" + staff(STAFF, delimiter=",")).encode()


@good(
    "excel_trailing_empty_columns.csv",
    "empty columns after the header and blank ;;; lines, as Excel leaves them",
    STAFF,
)
def _() -> bytes:
    blank = ";" * (len(HEADER) + 2) + "\r\n"
    lines = [line + ";;;" for line in staff(STAFF).split("\r\n") if line]
    lines.insert(4, blank.rstrip("\r\n"))
    return ("\r\n".join(lines) + "\r\n" + blank * 3).encode()


_QUIET = [
    replace(employee, vog_date=None) if i >= 16 else employee
    for i, employee in enumerate(LONG_STAFF)
]


@good(
    "excel_drops_trailing_delimiters.csv",
    "Excel leaves out the delimiters of empty cells at the end of rows after row 16",
    _QUIET,
)
def _() -> bytes:
    lines = [";".join(HEADER)]
    for number, employee in enumerate(_QUIET):
        line = ";".join(row(employee))
        lines.append(line.rstrip(";") if number >= 16 else line)
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


@good(
    "header_aliases_mixed_case.csv",
    "HR-system header names in mixed case, plus a column vogscreen does not use",
    STAFF,
)
def _() -> bytes:
    header = [
        "Burgerservicenummer",
        "Geboortedatum",
        "ACHTERNAAM",
        "Tussenvoegsels",
        "Initialen",
        "Pers.nr",
        "BRIN-nummer",
        "Functienaam",
        "Datum in dienst",
        "Datum uit dienst",
        "Datum VOG",
        "Afdeling",
    ]
    rows = [[*row(employee), "onderbouw"] for employee in STAFF]
    return table(rows, header=header).encode()


@good("dutch_dates.csv", "dates as DD-MM-YYYY, D-M-YYYY, DD/MM/YYYY and DD.MM.YYYY", STAFF)
def _() -> bytes:
    formats = ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y")
    rows = []
    for number, employee in enumerate(STAFF):
        shown = formats[number % 3]
        rows.append(
            row(
                employee,
                geboortedatum=employee.birth_date.strftime(shown),
                datum_in_dienst=f"{employee.start_date.day}-{employee.start_date.month}-"
                f"{employee.start_date.year}",
                vog_datum=employee.vog_date.strftime(shown) if employee.vog_date else "",
            )
        )
    return table(rows).encode()


@good(
    "bsn_as_formatted.csv",
    "BSNs with dots or spaces, and one whose leading zero Excel dropped",
    XLSX_STAFF,
)
def _() -> bytes:
    rows = [row(employee) for employee in XLSX_STAFF]
    rows[0][0] = LEADING_ZERO_BSN[1:]
    rows[1][0] = ".".join((XLSX_STAFF[1].bsn[:3], XLSX_STAFF[1].bsn[3:6], XLSX_STAFF[1].bsn[6:]))
    rows[2][0] = " ".join((XLSX_STAFF[2].bsn[:3], XLSX_STAFF[2].bsn[3:6], XLSX_STAFF[2].bsn[6:]))
    return table(rows).encode()


@good("multiline_cell.csv", "a quoted value with a line break typed with Alt+Enter", STAFF)
def _() -> bytes:
    rows = [row(employee) for employee in STAFF]
    rows[3][HEADER.index("functie")] = "leerkracht\ngroep 3 en 4"
    return table(rows).encode()


FORMULA_LIKE = {
    2: {"achternaam": "=SUM(1)"},
    3: {"functie": "+31 20 123 4567"},
    4: {"tussenvoegsel": "-"},
    5: {"voornamen": "@home"},
    6: {"achternaam": '=HYPERLINK("https://example.org","klik")', "personeelsnummer": "-0042"},
}


@good(
    "formula_like_values.csv",
    "values starting with = + - @ (stored exactly as given)",
    [
        replace(employee, surname=FORMULA_LIKE.get(n + 2, {}).get("achternaam", employee.surname))
        for n, employee in enumerate(STAFF[:5])
    ],
)
def _() -> bytes:
    rows = [
        row(employee, _WITH_FIRST_NAMES, **FORMULA_LIKE[number + 2])
        for number, employee in enumerate(STAFF[:5])
    ]
    return table(rows, header=_WITH_FIRST_NAMES).encode()


@good(
    "number_and_date_cells.xlsx",
    "XLSX with BSNs as number cells (one 8-digit) and dates as date cells",
    XLSX_STAFF,
)
def _() -> bytes:
    return xlsx([HEADER, *(xlsx_cells(employee) for employee in XLSX_STAFF)])


@good(
    "text_cells_below_blank_rows.xlsx",
    "XLSX with two blank rows above the header, BSNs and dates as text",
    STAFF,
)
def _() -> bytes:
    return xlsx([[None], [None], HEADER, *(row(employee) for employee in STAFF)])


@good(
    "serial_number_dates.xlsx",
    "XLSX whose date cells lost their format and show Excel serial numbers",
    STAFF,
)
def _() -> bytes:
    epoch = dt.date(1899, 12, 30)

    def serial(value: object) -> object:
        return (value - epoch).days if isinstance(value, dt.date) else value

    return xlsx([HEADER, *([serial(cell) for cell in xlsx_cells(e)] for e in STAFF)])


@good(
    "wrong_dimension.xlsx",
    "XLSX from an exporter that declares a used range of A1:C3 for 11 rows",
    STAFF,
)
def _() -> bytes:
    def shrink(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        return re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:C3"', data)

    return xlsx([HEADER, *(xlsx_cells(employee) for employee in STAFF)], patch=shrink)


# --- writing -----------------------------------------------------------------------------


def _toml(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    raise TypeError(value)


def manifest(cases: Sequence[Case], fields: Callable[[Case], dict[str, object]]) -> str:
    lines = ["# Written by tests/corpus/make_corpus.py; change that script, not this file.", ""]
    for case in sorted(cases, key=lambda case: case.name):
        lines.append(f"[{_toml(case.name)}]")
        lines += [f"{key} = {_toml(value)}" for key, value in fields(case).items()]
        lines.append("")
    return "\n".join(lines)


def write(root: Path = HERE) -> None:
    for folder, cases in (("bad", BAD), ("good", GOOD)):
        target = root / folder
        target.mkdir(parents=True, exist_ok=True)
        names = [case.name for case in cases]
        assert len(set(names)) == len(names), "file names must be unique"
        for stale in target.iterdir():
            if stale.name not in names and stale.name != "MANIFEST.toml":
                stale.unlink()
        for case in cases:
            (target / case.name).write_bytes(case.make())
    (root / "bad" / "MANIFEST.toml").write_text(
        manifest(
            BAD,
            lambda case: {"codes": list(case.codes), "failure": case.failure, **case.settings},
        ),
        encoding="utf-8",
    )
    (root / "good" / "MANIFEST.toml").write_text(
        manifest(
            GOOD,
            lambda case: {"quirk": case.failure, "rows": case.rows, "surnames": case.surnames},
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
    print(f"{len(BAD)} bad and {len(GOOD)} good files written")
