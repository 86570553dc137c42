"""The upload report as ``staff upload`` prints it, in the report's language (``--lang``):
Dutch by default, as the board reads it, or English."""

from __future__ import annotations

from rich.table import Table

from vogscreen.cli.context import out, styled
from vogscreen.domain.language import DEFAULT_LANGUAGE, Text, msg, msg_n
from vogscreen.domain.statuses import UploadOutcome
from vogscreen.pipeline.upload_report import COUNT_KEYS, UploadReport

_SHOWN_PROBLEMS = 100
_PROBLEM_COLUMNS = (msg("line"), msg("column"), msg("code"), msg("problem"), msg("how to fix it"))
_COUNT_LABELS = {
    "rows": msg("rows"),
    "new": msg("new"),
    "leaving": msg("leaving"),
    "changed": msg("changed"),
    "unchanged": msg("not changed"),
}


def print_report(report: UploadReport, language: str = DEFAULT_LANGUAGE) -> None:
    """Print ``report`` in ``language``; shared with the demo."""

    def say(style: str, lead: Text, rest: Text) -> None:
        out.print(styled(style, lead.render(language), rest.render(language)))

    where = {"file": report.filename, "board": report.board}
    if report.status == UploadOutcome.REJECTED:
        say(
            "red",
            msg("Rejected"),
            msg_n(
                " %(file)s for board %(board)s: %(n)s problem in %(rows)s row(s). "
                "Nothing was stored.",
                " %(file)s for board %(board)s: %(n)s problems in %(rows)s row(s). "
                "Nothing was stored.",
                len(report.problems),
                rows=report.counts["rows"],
                **where,
            ),
        )
        _print_problems(report, language)
        return
    if report.status == UploadOutcome.UNCHANGED:
        out.print(
            msg(
                "Unchanged: %(file)s is the same file as staff list %(id)s of board "
                "%(board)s. Nothing to do.",
                id=report.id,
                **where,
            ).render(language)
        )
        return
    say("green", *_received(report))
    counts = Table(*(_COUNT_LABELS[key].render(language) for key in COUNT_KEYS))
    counts.add_row(*(str(report.counts[key]) for key in COUNT_KEYS))
    out.print(counts)
    if report.status == UploadOutcome.HELD and report.reason is not None:
        held = {"hold": report.hold, "reason": report.reason.render(language)}
        if report.dry_run:
            say(
                "yellow",
                msg("Would be held"),
                msg(
                    " (%(hold)s): %(reason)s. Handed in, it would wait until it is confirmed "
                    "or rejected.",
                    **held,
                ),
            )
        else:
            say(
                "yellow",
                msg("Held"),
                msg(
                    " (%(hold)s) and not applied: %(reason)s. Check the file; then "
                    "`vogscreen staff confirm %(id)s` applies it, `vogscreen staff reject "
                    "%(id)s` discards it.",
                    id=report.id,
                    **held,
                ),
            )
    _print_pending(report, language)


def _received(report: UploadReport) -> tuple[Text, Text]:
    where = {"file": report.filename, "board": report.board}
    if report.dry_run:
        rest = msg(" %(file)s for board %(board)s (dry run: nothing stored).", **where)
        held = report.status == UploadOutcome.HELD
        return (msg("Would hold") if held else msg("Would accept")), rest
    rest = msg(" %(file)s for board %(board)s as staff list %(id)s.", id=report.id, **where)
    return (msg("Received") if report.status == UploadOutcome.HELD else msg("Accepted")), rest


def _print_problems(report: UploadReport, language: str) -> None:
    table = Table(*(column.render(language) for column in _PROBLEM_COLUMNS))
    for problem in report.problems[:_SHOWN_PROBLEMS]:
        shown = problem.as_dict(language)
        table.add_row(
            "" if problem.line is None else str(problem.line),
            problem.column or "",
            problem.code,
            shown["message"],
            shown["hint"] or "",
        )
    out.print(table)
    hidden = len(report.problems) - _SHOWN_PROBLEMS
    if hidden > 0:
        out.print(
            msg("… and %(hidden)s more; --report-json writes them all.", hidden=hidden).render(
                language
            )
        )


def _print_pending(report: UploadReport, language: str) -> None:
    """What the list does to the board's pending lists: overtakes them, or undoes some of
    the newest one's changes."""
    if report.supersedes:
        lists = ", ".join(map(str, report.supersedes))
        out.print(
            styled(
                "yellow",
                (
                    msg("This list would supersede")
                    if report.dry_run
                    else msg("This list supersedes")
                ).render(language),
                msg(
                    " pending staff list(s) %(lists)s: they will never be applied.", lists=lists
                ).render(language),
            )
        )
    if report.undoes and report.undoes["people"]:
        out.print(
            styled(
                "yellow",
                msg("It undoes").render(language),
                msg(
                    " the changes of pending staff list %(id)s for %(people)s person(s): new "
                    "staff left out, leavers back or changes reverted.",
                    id=report.undoes["staff_list"],
                    people=report.undoes["people"],
                ).render(language),
            )
        )
