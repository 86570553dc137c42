"""Setting up boards, staff, subscriptions and hits for the follow-up tests."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tests.reconcile_helpers import hand_in
from vogscreen.adapters.mock import MockAuthority
from vogscreen.pipeline.boards import add_board
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.runtime.authorities import subscription_ref_of
from vogscreen.runtime.bootstrap import App
from vogscreen.testing import FakeEmployee, fake_employees

BOARD_A = "11111"
BOARD_B = "22222"


def two_boards_with_a_shared_teacher(
    app: App, mock: MockAuthority, tmp_path: Path
) -> tuple[list[FakeEmployee], list[FakeEmployee], FakeEmployee]:
    add_board(app, BOARD_A, "Stichting Noorderlicht", ["hr@noorderlicht.nl", "po@noorderlicht.nl"])
    add_board(app, BOARD_B, "Vereniging Zuiderzon", ["personeel@zuiderzon.nl"])
    staff_a = fake_employees(6, seed=31, brin="06XY")
    staff_b = fake_employees(6, seed=32, brin="21QZ")
    shared_at_b = dataclasses.replace(staff_a[0], personeelsnummer="ZZ-0042", brin="21QZ01")
    staff_b.append(shared_at_b)
    hand_in(app, BOARD_A, staff_a, tmp_path)
    hand_in(app, BOARD_B, staff_b, tmp_path)
    reconcile(app, mock)
    return staff_a, staff_b, shared_at_b


def raise_hit(app: App, mock: MockAuthority, board: str, personeelsnummer: str) -> str:
    return mock.raise_hit(subscription_ref_of(app, board, personeelsnummer))
