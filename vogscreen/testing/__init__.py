"""Helpers for tests, the demo and the benchmarks: valid fake BSNs and staff lists.

The BSNs made here pass the 11-check but are drawn from a seeded generator; they are not
meant to be anyone's.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)

# The template's column order: the canonical names, in the order HR exports tend to use.
HEADER = (
    "bsn",
    "geboortedatum",
    "achternaam",
    "tussenvoegsel",
    "voorletters",
    "personeelsnummer",
    "brin",
    "functie",
    "datum_in_dienst",
    "datum_uit_dienst",
    "vog_datum",
)


def bsn_checksum(digits: str) -> int:
    return sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 11


def make_bsn(seed: int) -> str:
    """A valid BSN derived from ``seed``: the same seed always gives the same number."""
    rng = random.Random(seed)
    while True:
        # below 99_900_000: BSNs starting with 999 are the test range the mock refuses
        body = f"{rng.randrange(10_000_000, 99_900_000):08d}"
        # the last digit d has weight -1: total = s - d, which must be 0 mod 11
        partial = sum(int(d) * w for d, w in zip(body, _WEIGHTS[:8], strict=True))
        last = partial % 11
        if last < 10:
            return body + str(last)


def bsn_stream(seed: int = 1) -> Iterator[str]:
    """Distinct valid BSNs, reproducibly."""
    seen: set[str] = set()
    counter = seed * 1_000_003
    while True:
        counter += 1
        number = make_bsn(counter)
        if number not in seen:
            seen.add(number)
            yield number


SURNAMES = (
    "Jansen",
    "de Vries",
    "van den Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Dijk",
)
FUNCTIONS = ("leerkracht", "onderwijsassistent", "directeur", "conciërge", "intern begeleider")


@dataclass(frozen=True)
class FakeEmployee:
    bsn: str
    birth_date: dt.date
    surname: str
    prefix: str
    initials: str
    personeelsnummer: str
    brin: str
    function: str
    start_date: dt.date
    end_date: dt.date | None = None
    vog_date: dt.date | None = None

    def cells(self) -> list[str]:
        return [
            self.bsn,
            self.birth_date.isoformat(),
            self.surname,
            self.prefix,
            self.initials,
            self.personeelsnummer,
            self.brin,
            self.function,
            self.start_date.isoformat(),
            self.end_date.isoformat() if self.end_date else "",
            self.vog_date.isoformat() if self.vog_date else "",
        ]


def fake_employees(count: int, *, seed: int = 1, brin: str = "12AB") -> list[FakeEmployee]:
    rng = random.Random(seed)
    numbers = bsn_stream(seed)
    employees = []
    for i in range(count):
        full = rng.choice(SURNAMES)
        prefix, _, surname = full.rpartition(" ")
        employees.append(
            FakeEmployee(
                bsn=next(numbers),
                birth_date=dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(0, 14_000)),
                surname=surname,
                prefix=prefix,
                initials=rng.choice("ABCDEFGHJKLMNPRSTW") + ".",
                personeelsnummer=f"P{seed:03d}{i:05d}",
                brin=brin,
                function=rng.choice(FUNCTIONS),
                start_date=dt.date(2010, 8, 1) + dt.timedelta(days=rng.randrange(0, 4_000)),
                vog_date=dt.date(2010, 6, 1) + dt.timedelta(days=rng.randrange(0, 3_000)),
            )
        )
    return employees


def staff_csv(
    employees: Sequence[FakeEmployee], *, delimiter: str = ";", header: Sequence[str] = HEADER
) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for employee in employees:
        writer.writerow(employee.cells())
    return buffer.getvalue()


class FakeClock:
    """A clock tests can move: ``App(clock=FakeClock(...))``."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> dt.datetime:
        self.current += dt.timedelta(**delta)
        return self.current
