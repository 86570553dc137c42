"""Writes the corpus of staff lists: files intake must refuse (bad/) and files it must take (good/).

Every bad file is a different real-world failure; ``bad/MANIFEST.toml`` names the problem
codes each must produce and the failure it stands for. ``good/MANIFEST.toml`` gives the rows
and surnames each good file must yield. The cases are declared in ``bad_cases.py`` and
``good_cases.py``, the people in them in ``cases.py``, the format writers in ``formats.py``.
The output is deterministic: BSNs come from :mod:`vogscreen.testing` (valid, seeded,
nobody's), XLSX files are written by openpyxl with fixed timestamps. Regenerate after a
change with::

    .venv/bin/python -m tests.corpus.make_corpus
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.corpus import bad_cases, good_cases  # noqa: F401 - importing them registers the cases
from tests.corpus.cases import BAD, GOOD, Case

HERE = Path(__file__).parent


def _toml(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    raise TypeError(value)


def manifest(cases: Sequence[Case], fields: Callable[[Case], dict[str, object]]) -> str:
    lines = ["# Written by tests/corpus/make_corpus.py; change that script, not this file.", ""]
    for case in sorted(cases, key=lambda case: case.name):
        lines.append(f"[{_toml(case.name)}]")
        lines += [f"{key} = {_toml(value)}" for key, value in fields(case).items()]
        lines.append("")
    return "\n".join(lines)


def write(root: Path = HERE) -> None:
    for folder, cases in (("bad", BAD), ("good", GOOD)):
        target = root / folder
        target.mkdir(parents=True, exist_ok=True)
        names = [case.name for case in cases]
        assert len(set(names)) == len(names), "file names must be unique"
        for stale in target.iterdir():
            if stale.name not in names and stale.name != "MANIFEST.toml":
                stale.unlink()
        for case in cases:
            (target / case.name).write_bytes(case.make())
    (root / "bad" / "MANIFEST.toml").write_text(
        manifest(
            BAD,
            lambda case: {"codes": list(case.codes), "failure": case.failure, **case.settings},
        ),
        encoding="utf-8",
    )
    (root / "good" / "MANIFEST.toml").write_text(
        manifest(
            GOOD,
            lambda case: {"quirk": case.failure, "rows": case.rows, "surnames": case.surnames},
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
    print(f"{len(BAD)} bad and {len(GOOD)} good files written")
