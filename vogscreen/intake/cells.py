"""Reading one cell of a staff list: a BSN, a date, a BRIN code, a personeelsnummer, text.

Each parser returns the value or raises :class:`RowProblem` with a code and a message that
never quotes text that could be a BSN or a date (:func:`problems.quoted`). The ``*_from_text``
parsers take a cell's stripped, non-empty text (every CSV cell), the ``parse_*`` ones any
cell (XLSX numbers and dates too); the row validation (:mod:`vogscreen.intake.validate`)
calls the first kind on its fast path.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from stdnum import exceptions as stdnum_errors
from stdnum.nl import brin as stdnum_brin
from stdnum.nl import bsn as stdnum_bsn

from vogscreen.domain.language import Text, msg
from vogscreen.domain.terms import Cell
from vogscreen.intake import problems as p

# The shape nearly every date has; see _date_from_text.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_PATTERNS = (
    # A database export may add a midnight time: 1980-05-17 00:00:00.
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$"), (1, 2, 3)),
    (re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$"), (3, 2, 1)),
)
# A personeelsnummer is shown in reports, pages and e-mail subjects, so it may not be a
# BSN or a date in disguise: these separators are ignored when it is compared with a BSN.
_NUMBER_SEPARATORS = str.maketrans("", "", ".-/ ")
_DATE_SHAPES = (
    re.compile(r"(?P<d>\d{1,2})[-./](?P<m>\d{1,2})[-./](?P<y>\d{4})"),
    re.compile(r"(?P<y>\d{4})[-./](?P<m>\d{1,2})[-./](?P<d>\d{1,2})"),
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Serials below this (1927) are far more likely a year or a stray number than a date.
_SERIAL_FROM = 10_000
# Line breaks and the other C0 controls (not tab), DEL, and what str.splitlines() also
# breaks on: in a value they could end up as a header line of an email or a report.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


class RowProblem(Exception):
    def __init__(self, code: str, message: Text) -> None:
        self.code = code
        self.message = message


def text_of(cell: Cell) -> str:
    if type(cell) is str:  # every CSV cell: skip the checks for the other kinds
        return cell.strip()
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell).strip()


def parse_bsn(cell: Cell) -> str:
    if isinstance(cell, float) and not cell.is_integer():
        raise RowProblem(p.BSN_INVALID, msg("the BSN is not a whole number"))
    return bsn_from_text(text_of(cell))


def bsn_from_text(raw: str) -> str:
    if raw.isascii() and raw.isdigit():
        digits = raw  # the usual case, which none of the clean-ups below would change
    else:
        if "e+" in raw.lower():
            raise RowProblem(
                p.BSN_INVALID,
                msg(
                    "the BSN is in scientific notation (digits were lost in a spreadsheet); "
                    "format the column as text and export again"
                ),
            )
        digits = raw.replace(" ", "").replace(".", "").replace("-", "")
        if not (digits.isascii() and digits.isdigit()):
            raise RowProblem(p.BSN_INVALID, msg("the BSN contains characters other than digits"))
    if len(digits) == 8:  # a spreadsheet dropped the leading zero
        digits = "0" + digits
    if len(digits) != 9:
        raise RowProblem(
            p.BSN_INVALID, msg("the BSN has %(digits)s digits instead of 9", digits=len(digits))
        )
    # stdnum's own 11-check on the digits we already cleaned (its is_valid cleans again).
    if stdnum_bsn.checksum(digits) != 0 or digits == "000000000":
        raise RowProblem(p.BSN_INVALID, msg("the BSN fails the 11-check (elfproef)"))
    return digits


def parse_date(cell: Cell, *, secret: bool = False) -> dt.date | None:
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    # A date cell that lost its format in XLSX arrives as an Excel serial number.
    if (
        isinstance(cell, int | float)
        and not isinstance(cell, bool)
        and _SERIAL_FROM <= cell < 2_958_466
    ):
        return _EXCEL_EPOCH + dt.timedelta(days=int(cell))
    raw = text_of(cell)
    if not raw:
        return None
    return birth_date_from_text(raw) if secret else date_from_plain_text(raw)


def has_control_character(text: str) -> bool:
    # isprintable() is a fast pass for the usual value; a tab or an NBSP fails it harmlessly.
    return not text.isprintable() and _CONTROL.search(text) is not None


def birth_date_from_text(raw: str) -> dt.date:
    # Not cached: birth dates hardly repeat, so a cache would only push the other dates out.
    return _date_from_text(raw)


@functools.lru_cache(maxsize=16_384)
def date_from_plain_text(raw: str) -> dt.date:
    """Start and VOG dates repeat a lot within a file: parse each text once."""
    return _date_from_text(raw)


def _date_from_text(raw: str) -> dt.date:
    # The C parser reads the usual YYYY-MM-DD several times faster than the regexes. Only
    # that exact shape: Python 3.11's fromisoformat also takes 20240101 and week dates,
    # which the format does not allow.
    if _ISO_DATE.fullmatch(raw):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass  # a day that does not exist: the regexes below word that problem
    # Never the text itself: any date could be a birth date in the wrong column.
    for pattern, (y, m, d) in _DATE_PATTERNS:
        match = pattern.match(raw)
        if match:
            try:
                return dt.date(int(match[y]), int(match[m]), int(match[d]))
            except ValueError:
                raise RowProblem(
                    p.DATE_INVALID, msg("the value is not a date that exists")
                ) from None
    raise RowProblem(p.DATE_INVALID, msg("the value is not a date (use YYYY-MM-DD or DD-MM-YYYY)"))


def parse_brin(cell: Cell) -> str | None:
    raw = text_of(cell)
    if not raw:
        return None
    return brin_from_text(raw)


@functools.lru_cache(maxsize=4096)
def brin_from_text(raw: str) -> str:
    """A board has a handful of schools: check each distinct code once."""
    try:
        return str(stdnum_brin.validate(raw))
    except stdnum_errors.ValidationError:
        value = p.quoted(raw)
        raise RowProblem(
            p.BRIN_INVALID,
            msg("the value is not a BRIN code (2 digits and 2 letters, optionally 2 more digits)")
            if value is None
            else msg(
                "%(value)s is not a BRIN code (2 digits and 2 letters, optionally 2 more digits)",
                value=value,
            ),
        ) from None


def personeelsnummer_problem(number: str, bsn: str | None) -> RowProblem | None:
    """Why ``number`` cannot be a personeelsnummer, or None.

    Refused: anything shaped like a date; the row's own BSN, however written; and a number
    written the way a BSN is (``725.763.863``, ``7257 63 863``: 9 digits, or 8 that lost the
    leading zero, with separators) that passes the 11-check. Plain 8 or 9 digits are common
    real personeelsnummers and one in eleven passes the 11-check by chance: refusing those
    would reject whole files of some HR systems, so they pass unless they are the row's BSN.
    """
    for shape in _DATE_SHAPES:
        match = shape.fullmatch(number)
        if match and 1 <= int(match["m"]) <= 12 and 1 <= int(match["d"]) <= 31:
            return RowProblem(
                p.PERSONEELSNUMMER_LIKE_DATE,
                msg(
                    "the personeelsnummer looks like a date (a birth date in the wrong "
                    "column?); reports and e-mails show the personeelsnummer, so it may not "
                    "be a date"
                ),
            )
    digits = number.translate(_NUMBER_SEPARATORS)
    if digits.isascii() and digits.isdigit() and len(digits) in (8, 9):
        padded = digits.zfill(9)
        written_as_bsn = digits != number and stdnum_bsn.is_valid(padded)
        if padded == bsn or written_as_bsn:
            return RowProblem(
                p.PERSONEELSNUMMER_LIKE_BSN,
                msg(
                    "the personeelsnummer is a BSN, or looks like one (it passes the "
                    "11-check); reports and e-mails show the personeelsnummer, so it may not "
                    "be a BSN"
                ),
            )
    return None


def optional_text(cell: Cell) -> str | None:
    return text_of(cell) or None


def parse_birth_date(cell: Cell) -> dt.date | None:
    return parse_date(cell, secret=True)
