"""The crash-and-fault simulation (tests/simulation.py), a few hundred seeds per run.

Each block of seeds runs in this process, on SQLite files copied from one migrated
template, or on PostgreSQL databases cloned from one (fewer seeds: each costs more there).
A failure lists every broken seed with the command that replays it; ``./dev simulate
--seeds 10000`` sweeps many more.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import BACKEND
from tests.simulation import (
    PostgresDatabases,
    SqliteDatabases,
    describe,
    run_seed,
)

BLOCKS, PER_BLOCK = (3, 10) if BACKEND == "postgresql" else (8, 25)
STEPS = int(os.environ.get("VOGSCREEN_SIM_STEPS", "60"))


@pytest.mark.parametrize("block", range(BLOCKS))
def test_the_pipeline_keeps_its_invariants_through_crashes_and_faults(
    block: int, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if BACKEND == "postgresql":
        databases: SqliteDatabases | PostgresDatabases = PostgresDatabases(
            request.getfixturevalue("postgres_base_url")
        )
    else:
        databases = SqliteDatabases(tmp_path / "db")
    seeds = range(block * PER_BLOCK, (block + 1) * PER_BLOCK)
    failed = [
        outcome
        for outcome in (run_seed(seed, databases, tmp_path, STEPS) for seed in seeds)
        if not outcome.ok
    ]
    assert not failed, "\n".join(describe(outcome) for outcome in failed)
