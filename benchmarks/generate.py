"""Reproducible national-scale staff lists: one CSV per board, and a churn day.

The files are in the project's staff-list format (``vogscreen.testing.HEADER``, ``;``
delimited, UTF-8, CRLF; see docs/staff-list.md). Everything comes from ``--seed``: the same
arguments always give byte-identical files.

* Board sizes are skewed like the real sector: a few boards (one in 80, when the total
  allows it) with over 5,000 staff, about two thirds with 50 to 300, the rest in between.
* About 3 % of persons work at two boards (same BSN, birth date and name on both lists).
* The churn day: 1 % of persons join (new persons at a board, weighted by size), 1 % of
  employments end (two thirds dropped from the list, a third with a past
  ``datum_uit_dienst``), 1 % of employments change (function, BRIN or VOG date). No board
  loses more than the removal guard lets through (5, or 10 % of the board), so nothing is
  held. Only boards whose list changed get a day-1 file.

Layout of ``OUT``::

    manifest.json            counts, seed, board numbers, which boards changed
    day0/<board>.csv         the first full load
    day1/<board>.csv         the churn day (changed boards only)

Usage::

    .venv/bin/python benchmarks/generate.py --persons 100000 --boards 240 --out /tmp/nat
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import itertools
import json
import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vogscreen.testing import FUNCTIONS, HEADER, SURNAMES

DUAL_SHARE = 0.03
CHURN_SHARE = 0.01
FIRST_BOARD = 10_000  # DUO board numbers are 5 digits
# Fixed, so the files do not depend on the day they are made; every date lies in the past.
_BIRTH_FROM = dt.date(1958, 1, 1)
_START_FROM = dt.date(1990, 8, 1)
_LAST_DAY = dt.date(2025, 12, 31)
_LEFT_ON = dt.date(2025, 12, 31)
_INITIALS = "ABCDEFGHIJKLMNPRSTW"
_LETTERS = "ABCDEFGHJKLMNPRSTVWXYZ"
_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)


@dataclass
class Manifest:
    seed: int
    persons: int
    boards: list[str]
    employments: int
    dual: int
    joiners: int
    leavers: int
    changes: int
    changed_boards: list[str]
    sizes: dict[str, int] = field(default_factory=dict)
    # The generator's own high-water mark of resident memory (Linux), for the benchmark's
    # peak_rss_mb: read in-process, since a child's ru_maxrss includes its parent's pages.
    peak_rss_mb: float | None = None

    def day0(self, root: Path) -> list[tuple[str, Path]]:
        return [(board, root / "day0" / f"{board}.csv") for board in self.boards]

    def day1(self, root: Path) -> list[tuple[str, Path]]:
        return [(board, root / "day1" / f"{board}.csv") for board in self.changed_boards]

    def size_summary(self) -> dict[str, int]:
        values = sorted(self.sizes.values())
        return {
            "smallest": values[0],
            "median": values[len(values) // 2],
            "largest": values[-1],
            "over_5000": sum(1 for v in values if v > 5000),
            "50_to_300": sum(1 for v in values if 50 <= v <= 300),
        }


def board_sizes(rng: random.Random, employments: int, boards: int) -> list[int]:
    """``boards`` sizes that add up to ``employments``, skewed as described above."""
    if employments < boards:
        raise ValueError("need at least one employment per board")
    big = min(boards // 80 or 1, employments // 25_000) if boards > 1 else 0
    small = round((boards - big) * 2 / 3)
    medium = boards - big - small
    sizes = [rng.randint(5_001, 12_000) for _ in range(big)]
    sizes += [rng.randint(50, 300) for _ in range(small)]
    left = employments - sum(sizes)
    if medium and left >= medium * 301:
        # Log-uniform shares, so medium boards run from a few hundred to a few thousand.
        weights = [math.exp(rng.uniform(0, math.log(10))) for _ in range(medium)]
        spare = left - medium * 301
        sizes += [301 + int(spare * w / sum(weights)) for w in weights]
    else:
        # Too few persons for the realistic mix (a smoke run): spread what there is.
        weights = [rng.uniform(1, 3) for _ in range(boards)]
        sizes = [max(1, int(employments * w / sum(weights))) for w in weights]
    # Rounding leaves a few over or short: settle them on the largest board.
    largest = max(range(boards), key=sizes.__getitem__)
    sizes[largest] += employments - sum(sizes)
    rng.shuffle(sizes)
    return sizes


def bsns(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct valid BSNs (11-check), none in the 999 test range."""
    seen: set[str] = set()
    numbers: list[str] = []
    while len(numbers) < count:
        body = str(rng.randrange(10_000_000, 99_900_000))
        last = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11
        if last == 10:
            continue
        number = body + str(last)
        if number not in seen:
            seen.add(number)
            numbers.append(number)
    return numbers


@dataclass
class _People:
    bsn: list[str]
    birth: list[str]
    surname: list[str]
    prefix: list[str]
    initials: list[str]

    @classmethod
    def make(cls, rng: random.Random, count: int) -> _People:
        people = cls([], [], [], [], [])
        people.bsn = bsns(rng, count)
        for _ in range(count):
            prefix, _, surname = rng.choice(SURNAMES).rpartition(" ")
            people.birth.append(
                (_BIRTH_FROM + dt.timedelta(days=rng.randrange(16_000))).isoformat()
            )
            people.surname.append(surname)
            people.prefix.append(prefix)
            people.initials.append(rng.choice(_INITIALS) + "." + rng.choice(("", "J.", "M.")))
        return people

    def cells(self, person: int) -> list[str]:
        return [
            self.bsn[person],
            self.birth[person],
            self.surname[person],
            self.prefix[person],
            self.initials[person],
        ]


def _brins(rng: random.Random, board_index: int, size: int) -> list[str]:
    """The board's schools. A school code belongs to one board only, as a BRIN does: a
    board's list naming another board's school is held (intake's ``other_board`` check)."""
    codes = []
    for school in range(max(1, size // 150)):
        n = len(_LETTERS)
        k = (board_index * 263 + school) % (100 * n * n)
        code = f"{k // (n * n):02d}{_LETTERS[k // n % n]}{_LETTERS[k % n]}"
        codes.append(code + (f"{rng.randrange(10):02d}" if rng.random() < 0.3 else ""))
    return codes


def _terms(rng: random.Random, brins: Sequence[str]) -> list[str]:
    """brin, functie, datum_in_dienst, datum_uit_dienst, vog_datum of one employment."""
    start = _START_FROM + dt.timedelta(days=rng.randrange((_LAST_DAY - _START_FROM).days))
    vog = start - dt.timedelta(days=rng.randrange(0, 90))
    return [
        rng.choice(brins),
        rng.choice(FUNCTIONS),
        start.isoformat(),
        "",
        vog.isoformat() if rng.random() < 0.95 else "",
    ]


def _board_rows(seed: int, board: str, members: Sequence[int], people: _People) -> list[list[str]]:
    """The board's day-0 rows. Its own generator, so a day-1 file can remake them exactly."""
    rng = random.Random(f"{seed}/{board}")
    brins = _brins(rng, int(board) - FIRST_BOARD, len(members))
    rows = []
    for number, person in enumerate(members, start=1):
        brin, function, start, end, vog = _terms(rng, brins)
        rows.append([*people.cells(person), f"P{number:06d}", brin, function, start, end, vog])
    return rows


def _write(path: Path, rows: Sequence[Sequence[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows)


_BRIN, _FUNCTION, _END, _VOG = (
    HEADER.index(c) for c in ("brin", "functie", "datum_uit_dienst", "vog_datum")
)


def _change(rng: random.Random, row: list[str], kind: int, brins: Sequence[str]) -> None:
    others = [b for b in brins if b != row[_BRIN]]
    if kind == 1 and others:  # a move to another of the board's own schools
        row[_BRIN] = rng.choice(others)
    elif kind in (0, 1):
        row[_FUNCTION] = rng.choice([f for f in FUNCTIONS if f != row[_FUNCTION]])
    else:
        row[_VOG] = (_LAST_DAY - dt.timedelta(days=rng.randrange(1, 300))).isoformat()


def generate(persons: int, boards: int, out: Path, *, seed: int = 1) -> Manifest:
    """Write the day-0 and day-1 files for ``persons`` persons at ``boards`` boards."""
    rng = random.Random(seed)
    dual = round(persons * DUAL_SHARE) if boards > 1 else 0
    employments = persons + dual
    sizes = board_sizes(rng, employments, boards)
    numbers = [str(FIRST_BOARD + i) for i in range(boards)]
    joiners = leavers = changes = round(persons * CHURN_SHARE)
    people = _People.make(rng, persons + joiners)

    # Slots: each board's number repeated by its size, shuffled. Person i takes slot i;
    # the dual persons take the rest, each at a board other than their first.
    slots = [b for b, size in enumerate(sizes) for _ in range(size)]
    rng.shuffle(slots)
    second = slots[persons:]
    duals: list[int] = []
    chosen: set[int] = set()
    for board in second:
        for _ in range(1000):
            person = rng.randrange(persons)
            if person not in chosen and slots[person] != board:
                break
        else:
            raise ValueError("cannot place a person at two different boards")
        chosen.add(person)
        duals.append(person)
    members: list[list[int]] = [[] for _ in range(boards)]
    for person in range(persons):
        members[slots[person]].append(person)
    for i, person in enumerate(duals):
        members[second[i]].append(person)

    # The churn day, drawn over all employments (board, position in the board's list).
    cumulative = list(itertools.accumulate(sizes))

    def board_of(slot: int) -> tuple[int, int]:
        b = bisect.bisect_right(cumulative, slot)
        return b, slot - (cumulative[b - 1] if b else 0)

    picked = rng.sample(range(employments), min(employments, leavers * 3 + changes))
    leaving: dict[int, list[int]] = {}
    changing: dict[int, list[int]] = {}
    taken = changed = 0
    for slot in picked:
        b, position = board_of(slot)
        if taken < leavers:
            # Stay under the removal guard: it may end 5, or 10 % of the board.
            if len(leaving.get(b, ())) < max(5, sizes[b] // 10):
                leaving.setdefault(b, []).append(position)
                taken += 1
        elif changed < changes:
            changing.setdefault(b, []).append(position)
            changed += 1
    leavers, changes = taken, changed
    joining: dict[int, list[int]] = {}
    for person in range(persons, persons + joiners):
        b = bisect.bisect_right(cumulative, rng.randrange(employments))
        joining.setdefault(b, []).append(person)

    for day in ("day0", "day1"):
        (out / day).mkdir(parents=True, exist_ok=True)
    changed_boards = []
    for b, board in enumerate(numbers):
        rows = _board_rows(seed, board, members[b], people)
        _write(out / "day0" / f"{board}.csv", rows)
        if b not in leaving and b not in changing and b not in joining:
            continue
        changed_boards.append(board)
        churn = random.Random(f"{seed}/{board}/day1")
        schools = sorted({row[_BRIN] for row in rows})
        for position in changing.get(b, ()):
            _change(churn, rows[position], churn.randrange(3), schools)
        gone = set()
        for i, position in enumerate(leaving.get(b, ())):
            if i % 3 == 2:
                rows[position][_END] = _LEFT_ON.isoformat()
            else:
                gone.add(position)
        rows = [row for position, row in enumerate(rows) if position not in gone]
        brins = sorted({row[_BRIN] for row in rows}) or ["12AB"]
        for k, person in enumerate(joining.get(b, ()), start=len(members[b]) + 1):
            brin, function, start, end, vog = _terms(churn, brins)
            rows.append([*people.cells(person), f"P{k:06d}", brin, function, start, end, vog])
        _write(out / "day1" / f"{board}.csv", rows)

    manifest = Manifest(
        seed=seed,
        persons=persons,
        boards=numbers,
        employments=employments,
        dual=dual,
        joiners=joiners,
        leavers=leavers,
        changes=changes,
        changed_boards=changed_boards,
        sizes=dict(zip(numbers, sizes, strict=True)),
        peak_rss_mb=peak_rss_mb(),
    )
    (out / "manifest.json").write_text(json.dumps(asdict(manifest), indent=1))
    return manifest


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """A process's high-water mark of resident memory in MB (Linux), while it runs."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def load(out: Path) -> Manifest:
    return Manifest(**json.loads((out / "manifest.json").read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, required=True)
    parser.add_argument("--boards", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    manifest = generate(args.persons, args.boards, args.out, seed=args.seed)
    print(
        f"{manifest.persons} persons, {manifest.employments} employments at "
        f"{len(manifest.boards)} boards ({manifest.size_summary()}); churn day: "
        f"{manifest.joiners} joiners, {manifest.leavers} leavers, {manifest.changes} changes "
        f"at {len(manifest.changed_boards)} boards -> {args.out}"
    )


if __name__ == "__main__":
    main()
