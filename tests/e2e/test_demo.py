"""The README's first command: `vogscreen demo` in a fresh directory, start to finish."""

from __future__ import annotations

import email
import email.policy
import os
import re
import subprocess
import sys
import time
from pathlib import Path

VOGSCREEN = str(Path(sys.executable).parent / "vogscreen")


def test_the_demo_runs_in_a_fresh_directory_within_a_minute_and_leaves_three_emails(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [VOGSCREEN, "demo"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "COLUMNS": "120"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert time.monotonic() - started < 60
    assert "2 cases opened" in result.stdout
    assert "Healthy" in result.stdout
    messages = sorted((tmp_path / "var" / "mail" / "new").iterdir())
    assert len(messages) == 3
    hit_letters, others = set(), []
    for path in messages:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if "screeningsprofiel 60" in message.as_string():
            hit_letters.add(str(message["To"]))
        else:
            others.append((str(message["To"]), str(message["Subject"])))
    # A hit letter to each board, and the letter that board 10001's first list was rejected.
    assert hit_letters == {"hr@soov.example.nl", "personeel@vcor.example.nl"}
    [(to, subject)] = others
    assert to == "hr@soov.example.nl" and "afgekeurd" in subject
    # The login link for the portal, printed for the demo board.
    assert re.search(r"http://127\.0\.0\.1:8000/inloggen/link\?token=[\w-]+", result.stdout)
    again = subprocess.run(
        [VOGSCREEN, "demo"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 1 and "empty directory" in again.stderr
