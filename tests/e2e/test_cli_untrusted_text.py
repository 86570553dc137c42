"""Text from outside is printed as it is: a staff list's cells, file names and board names
are never read as console markup or emoji codes."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cli

HOSTILE = ("[/]", "[bold red]loud", ":x:", "[link=x]hier[/link]")


def test_markup_in_a_rejected_lists_header_is_shown_as_text_not_parsed(
    run: Cli, board: str, tmp_path: Path
) -> None:
    path = tmp_path / "[bold]lijst :x:.csv"
    path.write_text("bsn;" + ";".join(HOSTILE) + "\r\n", encoding="utf-8")

    result = run("staff", "upload", board, str(path), "--lang", "en")

    assert result.exit_code == 1, result.output  # rejected, and said so: no traceback
    assert "Rejected" in result.output and "missing_column" in result.output
    assert "[bold]lijst :x:.csv" in result.output
    for text in HOSTILE:
        assert text in result.output
    assert "❌" not in result.output


def test_markup_in_a_board_name_is_shown_as_text(run: Cli) -> None:
    added = run("board", "add", "23456", "--name", "Stichting [/] :x:", "--notify", "hr@a.nl")
    assert added.exit_code == 0, added.output
    shown = run("board", "show", "23456")
    assert shown.exit_code == 0, shown.output
    assert "Stichting [/] :x:" in shown.output
