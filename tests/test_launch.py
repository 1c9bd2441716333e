"""Starting a run in a background thread of the web process (``start_run``)."""

import threading
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from engine.domain import RunKind, RunStatus
from tests.test_pipeline import AS_OF, _demo
from webapp.database import db
from webapp.models import ClassificationRun, Customer
from webapp.pipeline import runs
from webapp.pipeline.launch import RunBusyError, RunStartError, start_run
from webapp.pipeline.locks import RUN_LOCK, exclusive


def wait_for_run(run_id: int, seconds: float = 120) -> ClassificationRun:
    """The run once it has ended, and its thread with it."""
    deadline = time.monotonic() + seconds
    while True:
        with db.engine.connect() as conn:
            status = conn.scalar(select(ClassificationRun.status)
                                 .where(ClassificationRun.id == run_id))
        if status is not None and status is not RunStatus.RUNNING:
            break
        assert time.monotonic() < deadline, f"run {run_id} still {status} after {seconds} s"
        time.sleep(0.1)
    for thread in threading.enumerate():
        if thread.name.startswith("run-"):
            thread.join(seconds)
    db.session.expire_all()
    run = db.session.get(ClassificationRun, run_id)
    assert run is not None
    return run


def _runs() -> int:
    with db.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(ClassificationRun)) or 0


def test_a_run_started_in_the_background_is_recorded_then_finishes(
        app: Flask, engine: Engine) -> None:
    _demo(app, 120)
    run_id = start_run(app, RunKind.FULL, AS_OF)
    # The id comes back as soon as the run is recorded: it may still be going.
    recorded = db.session.get(ClassificationRun, run_id)
    assert recorded is not None and recorded.kind is RunKind.FULL
    run = wait_for_run(run_id)
    assert (run.status, run.as_of) == (RunStatus.FINISHED, AS_OF)
    assert run.customers == db.session.scalar(select(func.count()).select_from(Customer))
    assert run.id == db.session.scalar(select(func.max(ClassificationRun.id)))


def test_the_evaluation_date_defaults_to_the_operators_today(app: Flask, engine: Engine) -> None:
    _demo(app, 40)
    run = wait_for_run(start_run(app, RunKind.CHANGED))
    assert run.status is RunStatus.FINISHED
    assert run.as_of == datetime.now(ZoneInfo(app.config["TIMEZONE"])).date()


def test_a_run_in_progress_refuses_another_without_recording_it(
        app: Flask, engine: Engine) -> None:
    _demo(app, 40)
    before = _runs()
    with exclusive(engine, RUN_LOCK) as held:
        assert held
        with pytest.raises(RunBusyError, match="in progress"):
            start_run(app, RunKind.CHANGED, AS_OF)
    assert _runs() == before
    run = wait_for_run(start_run(app, RunKind.CHANGED, AS_OF))  # free again
    assert run.status is RunStatus.FINISHED


def test_a_failure_before_the_run_is_recorded_is_reported(
        app: Flask, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_session: Session) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(runs, "mark_interrupted", broken)
    with pytest.raises(RunStartError, match="could not start: OSError: disk full"):
        start_run(app, RunKind.CHANGED, date(2026, 11, 23))
    assert _runs() == 0


def test_a_run_not_recorded_in_time_is_reported_and_may_start_later(
        app: Flask, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    go_on = threading.Event()
    waiting = runs.mark_interrupted

    def slow(session: Session) -> int:
        go_on.wait(30)
        return waiting(session)

    monkeypatch.setattr(runs, "mark_interrupted", slow)
    with pytest.raises(RunStartError, match=r"not recorded within 0\.3 s; it may still start"):
        start_run(app, RunKind.CHANGED, AS_OF, timeout=0.3)
    go_on.set()
    deadline = time.monotonic() + 30
    while not _runs():
        assert time.monotonic() < deadline, "the late run was never recorded"
        time.sleep(0.1)
    with db.engine.connect() as conn:
        run_id = conn.scalar(select(ClassificationRun.id))
    assert run_id is not None
    assert wait_for_run(run_id).status is RunStatus.FINISHED
