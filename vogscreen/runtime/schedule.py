"""What a scheduled job is, and when its slots fall.

Every worker process builds the same triggers, with the same alignment, so "the 02:00 run
of reconcile" is the same slot on every machine, and the database lets one worker have it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from vogscreen.domain.errors import ConfigurationError
from vogscreen.runtime.bootstrap import App
from vogscreen.runtime.leases import Run

# Interval slots count from here, so that every worker computes the same ones.
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
TIMEZONE = "Europe/Amsterdam"


@dataclass(frozen=True)
class JobSpec:
    """A job of the worker. ``run`` is a thin call into a service."""

    name: str
    run: Callable[[App, Run], None]
    schedule: str  # "cron: m h dom mon dow", "interval: SECONDS" or "off"
    per_board: bool = False
    # How late a missed slot may still run (a restart after 02:00 still reconciles).
    grace_seconds: int | None = None
    description: str = ""


def parse_schedule(text: str) -> BaseTrigger | None:
    kind, _, value = text.partition(":")
    kind, value = kind.strip().lower(), value.strip()
    try:
        if kind == "off":
            return None
        if kind == "interval":
            return IntervalTrigger(seconds=float(value), start_date=EPOCH, timezone=dt.UTC)
        if kind == "cron":
            return CronTrigger.from_crontab(value, timezone=TIMEZONE)
    except ValueError as exc:
        raise ConfigurationError(f"bad schedule {text!r}: {exc}") from None
    raise ConfigurationError(
        f"bad schedule {text!r}: use 'cron: 0 2 * * *', 'interval: 60' or 'off'"
    )


def period_seconds(trigger: BaseTrigger) -> float:
    if isinstance(trigger, IntervalTrigger):
        return float(trigger.interval.total_seconds())
    first = trigger.get_next_fire_time(None, EPOCH)
    second = (
        trigger.get_next_fire_time(first, first + dt.timedelta(microseconds=1)) if first else None
    )
    return (second - first).total_seconds() if first and second else 86_400.0


def latest_slot(trigger: BaseTrigger, now: dt.datetime) -> dt.datetime | None:
    """The last fire time at or before ``now``: the slot a run started now belongs to."""
    if isinstance(trigger, IntervalTrigger):
        step = trigger.interval.total_seconds()
        count = (now - EPOCH).total_seconds() // step
        return EPOCH + dt.timedelta(seconds=count * step)
    fire = trigger.get_next_fire_time(None, now - dt.timedelta(days=8))
    previous = None
    while fire is not None and fire <= now:
        previous = fire
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(microseconds=1))
    return previous


def slot_name(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
