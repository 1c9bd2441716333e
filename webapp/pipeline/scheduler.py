"""``custclass scheduler``: the re-evaluation jobs on APScheduler 3.

Four jobs, kept in the database's ``scheduler_job`` table:

* ``changed`` every ``SCHEDULER_CHANGED_MINUTES``: a *changed* run when the queue holds
  something;
* ``daily`` at ``SCHEDULER_DAILY_AT`` (operator's time zone): the *due* run, which also
  releases expired pins and takes the queue;
* ``published`` every ``SCHEDULER_PUBLISHED_SECONDS``: a *published* run when a ruleset
  version was published and not yet evaluated;
* ``reports`` every ``SCHEDULER_REPORTS_MINUTES``: the reports' summaries, when a run or
  a change made them stale (:mod:`webapp.reports.refresh`); skipped while a run holds
  the run lock, the next one catches up.

One scheduler is active per database. APScheduler 3 cannot share a job store between
processes (duplicated or missed runs), so a process first takes the scheduler lock
(:mod:`webapp.pipeline.locks`) and, until it gets it, waits as a stand-by; when the
active process dies, the database or the kernel releases its lock and a stand-by takes
over. Whatever the scheduler does, a job's run also holds the run lock, so two runs
never overlap (a manual ``custclass reclassify`` included).

Job defaults, chosen deliberately (APScheduler's own are ``misfire_grace_time=1`` s,
which silently skips a run delayed by a busy machine):

* ``coalesce=True``: runs missed while the scheduler was down or busy become one run;
  each run takes all its work from the database (the queue, the due dates), so one run
  catches up with everything several would have done;
* ``misfire_grace_time=None``: a late run still runs, however late: a daily run missed
  at 02:00 because the scheduler was down runs when it comes back, not the next night;
* ``max_instances=1`` and one worker thread: jobs run one after another.
"""

import logging
import signal
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask, current_app
from sqlalchemy import exists, select

from engine.domain import RunKind
from webapp.clock import today
from webapp.config import daily_time
from webapp.database import db
from webapp.models import ClassificationRun, PendingChange
from webapp.models.scheduler import SCHEDULER_JOB_TABLE
from webapp.pipeline.locks import SCHEDULER_LOCK, exclusive
from webapp.pipeline.runs import reclassify, unevaluated_versions
from webapp.reports.refresh import refresh_now

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "misfire_grace_time": None, "max_instances": 1}

#: The app the jobs run in; jobs are stored by reference, so they find it here.
_app: Flask | None = None


def _processes() -> int:
    return current_app.config["RUN_PROCESSES"]


def _in_app(job: Callable[[], None]) -> None:
    if _app is None:
        raise RuntimeError("the scheduler's app is not set (start it with run_scheduler)")
    with _app.app_context():
        try:
            job()
        finally:
            db.session.remove()


def _changed() -> None:
    if db.session.scalar(select(exists().select_from(PendingChange))):
        _report(reclassify(db.session, RunKind.CHANGED, today(), processes=_processes()))


def _daily() -> None:
    _report(reclassify(db.session, RunKind.DUE, today(), processes=_processes()))


def _published() -> None:
    if unevaluated_versions(db.session.connection()):
        _report(reclassify(db.session, RunKind.PUBLISHED, today(), processes=_processes()))


def _reports() -> None:
    parts = refresh_now(db.session, today(), ZoneInfo(current_app.config["TIMEZONE"]),
                        wait=False)
    if parts:
        log.info("report summaries refreshed: %s", ", ".join(parts))


def changed_job() -> None:
    """Scheduled: a *changed* run when something is queued."""
    _in_app(_changed)


def daily_job() -> None:
    """Scheduled: the daily *due* run."""
    _in_app(_daily)


def published_job() -> None:
    """Scheduled: a *published* run when a new version awaits it."""
    _in_app(_published)


def reports_job() -> None:
    """Scheduled: refresh the reports' stale summaries."""
    _in_app(_reports)


def _report(run: ClassificationRun) -> None:
    log.info("run %s (%s, as of %s) %s: %s customers, changes %s", run.id, run.kind,
             run.as_of, run.status, run.customers, run.changes)


def build_scheduler(app: Flask) -> BlockingScheduler:
    """A scheduler with the four jobs, on the app's database."""
    config = app.config
    zone = ZoneInfo(config["TIMEZONE"])
    hour, minute = daily_time(config["SCHEDULER_DAILY_AT"])
    scheduler = BlockingScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=db.engine,
                                                 tablename=SCHEDULER_JOB_TABLE)},
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults=JOB_DEFAULTS, timezone=zone)
    jobs = [
        (changed_job, "changed", IntervalTrigger(minutes=config["SCHEDULER_CHANGED_MINUTES"],
                                                 timezone=zone)),
        (daily_job, "daily", CronTrigger(hour=hour, minute=minute, timezone=zone)),
        (published_job, "published",
         IntervalTrigger(seconds=config["SCHEDULER_PUBLISHED_SECONDS"], timezone=zone)),
        (reports_job, "reports",
         IntervalTrigger(minutes=config["SCHEDULER_REPORTS_MINUTES"], timezone=zone)),
    ]
    for function, name, trigger in jobs:
        scheduler.add_job(function, trigger, id=name, name=name, replace_existing=True)
    return scheduler


def run_scheduler(app: Flask, *, poll_seconds: float) -> None:
    """Wait to become the active scheduler (trying every ``poll_seconds``), then run the
    jobs until stopped (SIGTERM or SIGINT; a run in progress finishes first)."""
    global _app
    _app = app
    standing_by = False
    while True:
        with exclusive(db.engine, SCHEDULER_LOCK, wait=False) as active:
            if active:
                if standing_by:
                    log.info("the active scheduler is gone: taking over")
                _run_jobs(build_scheduler(app))
                return
        if not standing_by:
            log.info("another scheduler is active on this database: standing by")
            standing_by = True
        time.sleep(poll_seconds)


def _run_jobs(scheduler: BlockingScheduler) -> None:
    def stop(signum: int, _frame: object) -> None:
        log.info("signal %s: stopping after the run in progress", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    log.info("active scheduler: jobs %s",
             ", ".join(f"{job.id} ({job.trigger})" for job in scheduler.get_jobs()))
    scheduler.start()
