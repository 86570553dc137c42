"""The good files: spreadsheet quirks intake must take, with the rows they must yield."""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import replace

from tests.corpus.cases import (
    ACCENTED,
    LEADING_ZERO_BSN,
    LONG_STAFF,
    STAFF,
    XLSX_STAFF,
    good,
    row,
    staff,
    table,
)
from tests.corpus.formats import xlsx, xlsx_cells
from vogscreen.testing import HEADER

_WITH_FIRST_NAMES = (*HEADER[:5], "voornamen", *HEADER[5:])


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


_NO_VOG_DATE_AFTER_ROW_16 = [
    replace(employee, vog_date=None) if i >= 16 else employee
    for i, employee in enumerate(LONG_STAFF)
]


@good(
    "excel_drops_trailing_delimiters.csv",
    "Excel leaves out the delimiters of empty cells at the end of rows after row 16",
    _NO_VOG_DATE_AFTER_ROW_16,
)
def _() -> bytes:
    lines = [";".join(HEADER)]
    for number, employee in enumerate(_NO_VOG_DATE_AFTER_ROW_16):
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


FORMULA_LIKE = {
    2: {"achternaam": "=SUM(1)"},
    3: {"functie": "+31 20 123 4567"},
    4: {"tussenvoegsel": "-"},
    5: {"voornamen": "@home"},
    6: {"achternaam": '=HYPERLINK("https://example.org","klik")', "personeelsnummer": "-0042"},
}


def _formula_like_surname(number: int, surname: str) -> str:
    return FORMULA_LIKE[number + 2].get("achternaam", surname)


@good(
    "formula_like_values.csv",
    "values starting with = + - @ (stored exactly as given)",
    [
        replace(employee, surname=_formula_like_surname(number, employee.surname))
        for number, employee in enumerate(STAFF[:5])
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
