"""Rows are read by name: the Terms of any row come from its TERM_COLUMNS attributes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import SimpleNamespace

from vogscreen.domain.terms import TERM_COLUMNS, Terms, terms_of


def test_the_term_columns_are_the_fields_of_terms_in_their_order() -> None:
    assert tuple(field.name for field in dataclasses.fields(Terms)) == TERM_COLUMNS


def test_terms_are_read_by_name_whatever_else_a_row_holds_and_in_whatever_order() -> None:
    row = SimpleNamespace(
        vog_date=dt.date(2024, 5, 1),
        id=7,
        end_date=None,
        person_id=3,
        function="leerkracht",
        start_date=dt.date(2020, 8, 1),
        brin="12AB",
        personeelsnummer="P1",
    )
    assert terms_of(row) == Terms(
        "P1", "12AB", "leerkracht", dt.date(2020, 8, 1), None, dt.date(2024, 5, 1)
    )
