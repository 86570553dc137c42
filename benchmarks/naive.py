"""The straightforward way, for comparison only: intake plus apply as a per-row ORM loop.

This is what a first version of vogscreen's bulk path might have looked like, and what
docs/STYLE.md asks us to avoid. It is *not* part of the product; the national benchmark
runs it on a subset and reports how much slower it is than vogscreen (``naive_ratio``).

Per file: read the CSV with ``csv.DictReader``; per row check the BSN (python-stdnum) and
parse the dates, compute the blind index, ``session.query`` the person by it, create the
``Person`` when new, add the ``StaffListRow``, query and create (or update) the
``Employment``, query the ``Subscription`` and create it with its outbox row when missing;
commit once per file. It reaches the same state as vogscreen's intake plus apply of a
first full load (persons, snapshot rows, employments, pending subscriptions and subscribe
operations), with less validation, no audit detail and no removal guard.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from stdnum.nl import bsn as stdnum_bsn

from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import (
    AuthorityOperation,
    Board,
    Employment,
    Person,
    StaffList,
    StaffListRow,
    Subscription,
)
from vogscreen.store.subscriptions import new_idempotency_key


def _date(value: str) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def naive_intake_and_apply(app: App, files: Iterable[tuple[str, Path]]) -> int:
    """Load every board's file, one ORM object at a time. Returns the rows loaded."""
    loaded = 0
    now = app.now()
    for number, path in files:
        with app.sessions() as session:
            board = session.query(Board).filter_by(number=number).one()
            staff_list = StaffList(
                board_id=board.id,
                sha256="",
                filename=path.name,
                status="applied",
                row_count=0,
                counts={},
                report={},
                received_at=now,
                received_by="naive",
            )
            session.add(staff_list)
            session.flush()
            with path.open(encoding="utf-8-sig", newline="") as handle:
                for line, row in enumerate(csv.DictReader(handle, delimiter=";"), start=2):
                    if not stdnum_bsn.is_valid(row["bsn"]):
                        raise ValueError(f"line {line}: invalid BSN")
                    index = app.vault.blind_index(row["bsn"])
                    person = session.query(Person).filter_by(bsn_index=index).one_or_none()
                    if person is None:
                        person = Person(
                            bsn_index=index,
                            bsn_cipher=app.vault.encrypt(row["bsn"]),
                            birth_date=dt.date.fromisoformat(row["geboortedatum"]),
                            surname=row["achternaam"],
                            prefix=row["tussenvoegsel"] or None,
                            initials=row["voorletters"] or None,
                            created_at=now,
                        )
                        session.add(person)
                        session.flush()
                    terms = {
                        "personeelsnummer": row["personeelsnummer"] or None,
                        "brin": row["brin"] or None,
                        "function": row["functie"] or None,
                        "start_date": _date(row["datum_in_dienst"]),
                        "end_date": _date(row["datum_uit_dienst"]),
                        "vog_date": _date(row["vog_datum"]),
                    }
                    session.add(
                        StaffListRow(
                            board_id=board.id,
                            staff_list_id=staff_list.id,
                            person_id=person.id,
                            surname=person.surname,
                            prefix=person.prefix,
                            initials=person.initials,
                            **terms,
                        )
                    )
                    employment = (
                        session.query(Employment)
                        .filter_by(board_id=board.id, person_id=person.id)
                        .one_or_none()
                    )
                    if employment is None:
                        session.add(
                            Employment(
                                board_id=board.id,
                                person_id=person.id,
                                first_staff_list_id=staff_list.id,
                                last_staff_list_id=staff_list.id,
                                started_at=now,
                                **terms,
                            )
                        )
                    else:
                        for name, value in terms.items():
                            setattr(employment, name, value)
                        employment.last_staff_list_id = staff_list.id
                    subscription = (
                        session.query(Subscription).filter_by(person_id=person.id).one_or_none()
                    )
                    if subscription is None:
                        session.add(
                            Subscription(
                                person_id=person.id,
                                status="pending",
                                generation=1,
                                created_at=now,
                                updated_at=now,
                            )
                        )
                        session.add(
                            AuthorityOperation(
                                person_id=person.id,
                                operation="subscribe",
                                generation=1,
                                idempotency_key=new_idempotency_key("subscribe"),
                                status="pending",
                                attempts=0,
                                created_at=now,
                            )
                        )
                    loaded += 1
                    staff_list.row_count += 1
            session.commit()
    return loaded
