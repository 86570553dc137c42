"""The scheduled jobs: thin calls into vogscreen's services, one per job.

``JOBS`` is what ``vogscreen worker`` schedules and ``vogscreen run JOB`` runs by hand.
Each job's schedule is a setting: ``VOGSCREEN_SCHEDULE_<JOB>`` (for example
``VOGSCREEN_SCHEDULE_RECONCILE="cron: 0 2 * * *"`` or ``"interval: 60"`` or ``"off"``).
"""

from __future__ import annotations

from vogscreen.runtime.bootstrap import App
from vogscreen.runtime.leases import ALL_BOARDS, Run
from vogscreen.runtime.schedule import JobSpec

# Who the audit names for what the scheduled jobs do for all boards at once.
WORKER = "worker"


def dropfolder(app: App, run: Run) -> None:
    from vogscreen.pipeline.dropfolder import process_board

    if run.board != ALL_BOARDS:
        run.counts.update(process_board(app, run.board))


def reconcile(app: App, run: Run) -> None:
    """Per board: apply its pending list. Then, for all boards: lapse, heal and drain."""
    from vogscreen.pipeline import reconcile as reconciliation

    if run.board != ALL_BOARDS:
        summary = reconciliation.run(app, None, board=run.board, finish=False)
        run.counts.update({r.outcome: 1 for r in summary.apply.boards})
        return
    with app.authority() as authority:
        summary = reconciliation.run(app, authority, actor=WORKER, lists=False)
    run.counts.update(
        {
            "lapsed": summary.apply.lapsed,
            **summary.apply.subscriptions.as_dict(),
            **summary.drain.as_dict(),
        }
    )


def drain(app: App, run: Run) -> None:
    from vogscreen.pipeline.authority_sync import drain as drain_outbox

    with app.authority() as authority:
        run.counts.update(drain_outbox(app, authority).as_dict())


def hits(app: App, run: Run) -> None:
    from vogscreen.pipeline.hits import poll

    with app.authority() as authority:
        run.counts.update(poll(app, authority).as_dict())


def notify(app: App, run: Run) -> None:
    from vogscreen.pipeline.notify import notify as send

    run.counts.update(send(app).as_dict())


def validate(app: App, run: Run) -> None:
    from vogscreen.pipeline.authority_check import validate as compare

    with app.authority() as authority:
        run.counts.update(compare(app, authority, repair=False).as_dict())


def reminders(app: App, run: Run) -> None:
    from vogscreen.pipeline.followup import remind

    run.counts["reminders"] = remind(app)


def retention(app: App, run: Run) -> None:
    from vogscreen.pipeline.retention import purge

    run.counts.update(purge(app))


HOUR = 3600
JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(
            "dropfolder",
            dropfolder,
            "interval: 300",
            per_board=True,
            description="hand in staff lists from inbox/<board>/",
        ),
        JobSpec(
            "reconcile",
            reconcile,
            "cron: 0 2 * * *",
            per_board=True,
            grace_seconds=6 * HOUR,
            description="apply pending staff lists, then drain the authority outbox",
        ),
        JobSpec("drain", drain, "interval: 300", description="send queued authority operations"),
        JobSpec("hits", hits, "interval: 180", description="poll the authority for hits"),
        JobSpec("notify", notify, "interval: 60", description="send queued emails"),
        JobSpec(
            "validate",
            validate,
            "cron: 0 4 * * 0",
            grace_seconds=24 * HOUR,
            description="compare subscriptions with the authority",
        ),
        JobSpec(
            "reminders",
            reminders,
            "cron: 0 7 * * *",
            grace_seconds=12 * HOUR,
            description="queue reminders for cases open too long",
        ),
        JobSpec(
            "retention",
            retention,
            "cron: 30 3 * * *",
            grace_seconds=12 * HOUR,
            description="purge people who left long ago",
        ),
    )
}
