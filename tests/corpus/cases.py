"""The people in the corpus, and how a case of it is declared.

BSNs come from :mod:`vogscreen.testing`: valid, seeded, nobody's. Tests read the people here
to check that no report shows a BSN or a birth date.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from vogscreen.testing import HEADER, FakeEmployee, fake_employees


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
