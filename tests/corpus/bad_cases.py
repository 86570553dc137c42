"""The bad files: each a different real-world failure, with the problem codes it must give."""

from __future__ import annotations

import datetime as dt
import gzip
import struct

from tests.corpus.cases import PEOPLE, SECRET_VALUES, bad, row, staff, table
from tests.corpus.formats import (
    corrupt_member,
    declare_size,
    ole2,
    png,
    pseudo_random,
    sheet_xml,
    xlsx,
    xlsx_cells,
    zip_bomb,
    zip_of,
)
from vogscreen.intake import problems as p
from vogscreen.testing import HEADER


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
    package = struct.pack("<Q", 6000) + pseudo_random(6008, seed=7)
    return ole2({"EncryptionInfo": info, "EncryptedPackage": package})


@bad("zip_of_exports.xlsx", "a ZIP of CSV exports renamed to .xlsx", p.NOT_A_TABLE)
def _() -> bytes:
    return zip_of([("personeel.csv", staff(PEOPLE).encode())])


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
    return zip_of(
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
    return corrupt_member(data, "xl/worksheets/sheet1.xml")


@bad("zip_bomb.xlsx", "a workbook that inflates to 300 MiB (a zip bomb)", p.XLSX_TOO_LARGE)
def _() -> bytes:
    return zip_bomb(300)


@bad(
    "zip_bomb_lying_sizes.xlsx",
    "a zip bomb that declares a small size for its 300 MiB sheet",
    p.XLSX_DAMAGED,
)
def _() -> bytes:
    return declare_size(zip_bomb(300), "xl/worksheets/sheet1.xml", 64 * 1024)


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
        xml = sheet_xml(cells)
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


@bad(
    "personeelsnummer_is_bsn.csv",
    "the BSN typed into the personeelsnummer column as well (with dots)",
    p.PERSONEELSNUMMER_LIKE_BSN,
)
def _() -> bytes:
    bsn = PEOPLE[3].bsn
    return _with(3, personeelsnummer=f"{bsn[:3]}.{bsn[3:6]}.{bsn[6:]}")


@bad(
    "personeelsnummer_is_birth_date.csv",
    "the birth date pasted into the personeelsnummer column",
    p.PERSONEELSNUMMER_LIKE_DATE,
)
def _() -> bytes:
    return _with(2, personeelsnummer=PEOPLE[2].birth_date.strftime("%d-%m-%Y"))


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


@bad(
    "multiline_cell.csv",
    "a quoted value with a line break typed with Alt+Enter (it could become a mail header)",
    p.CONTROL_CHARACTER,
)
def _() -> bytes:
    rows = [row(employee) for employee in PEOPLE]
    rows[3][HEADER.index("functie")] = "leerkracht\ngroep 3 en 4"
    return table(rows).encode()


@bad(
    "header_cell_too_large.csv",
    "a header cell of 200,000 characters (a whole document pasted into it)",
    p.FIELD_TOO_LARGE,
)
def _() -> bytes:
    return staff(PEOPLE).replace("functie", "functie " + "x" * 200_000, 1).encode()


@bad(
    "row_cut_off_mid_file.csv",
    "a row cut off after its personeelsnummer, as a broken export leaves it",
    p.ROW_LENGTH,
)
def _() -> bytes:
    rows = [row(employee) for employee in PEOPLE]
    rows[2] = rows[2][: HEADER.index("personeelsnummer") + 1]
    return table(rows).encode()


@bad("every_sheet_hidden.xlsx", "a workbook whose only sheets are hidden", p.NO_VISIBLE_SHEET)
def _() -> bytes:
    def hidden(name: str, data: bytes) -> bytes:
        if name != "xl/workbook.xml":
            return data
        return data.replace(b'state="visible"', b'state="hidden"')

    sheet = [list(HEADER), *(xlsx_cells(employee) for employee in PEOPLE)]
    return xlsx(sheet, sheet, patch=hidden)
