"""The operator's calendar: "today" and day boundaries in ``TIMEZONE``.

Times are stored in UTC; days (the evaluation date of a run, a day of the dashboard's
charts) are the operator's. Kept apart from the scheduler so that the web process reads
the date without importing APScheduler.
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app


def zone() -> ZoneInfo:
    """The operator's time zone (``TIMEZONE``) of the current app."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def now() -> datetime:
    """The current moment (UTC); ``FROZEN_NOW`` in the configuration fixes it (tests
    only: a page's "today" and the adjustment window then stay put)."""
    return current_app.config.get("FROZEN_NOW") or datetime.now(UTC)


def today() -> date:
    """Today in the operator's time zone."""
    return now().astimezone(zone()).date()


def start_of(day: date, tz: ZoneInfo) -> datetime:
    """Midnight at the start of ``day`` in ``tz``, in UTC: the bound to compare stored
    times with (they are UTC; SQLite keeps them naive and would drop an offset
    unconverted)."""
    return datetime.combine(day, time(), tz).astimezone(UTC)
