"""The scheduler: one active process per database, runs never overlapping, fail-over."""

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select

from engine.domain import RunKind, RunStatus
from tests.test_pipeline import AS_OF, _demo
from webapp.config import ConfigError, load_config
from webapp.database import db
from webapp.models import ClassificationRun, Customer, RulesetVersion
from webapp.models.changes import mark_changed
from webapp.pipeline import scheduler
from webapp.pipeline.locks import RUN_LOCK, exclusive
from webapp.rulesets.store import publish

CUSTCLASS = str(Path(sys.executable).with_name("custclass"))
FAST = {"CUSTCLASS_SCHEDULER_CHANGED_MINUTES": "0.01",  # every 0.6 s
        "CUSTCLASS_SCHEDULER_PUBLISHED_SECONDS": "0.5"}


def test_a_lock_is_held_once_and_released_after(app: Flask, engine: Engine) -> None:
    with exclusive(engine, "test") as held:
        assert held
        with exclusive(engine, "test", wait=False) as again:
            assert not again
        with exclusive(engine, "other", wait=False) as other:
            assert other
    with exclusive(engine, "test", wait=False) as later:
        assert later


def _queue_some(count: int = 3) -> None:
    picked = select(Customer.id).order_by(func.random()).limit(count).subquery()
    mark_changed(db.session.connection(), "customer", select(picked.c.id), datetime.now(UTC))
    db.session.commit()


def _runs() -> list[ClassificationRun]:
    db.session.expire_all()
    return list(db.session.scalars(select(ClassificationRun).order_by(ClassificationRun.id)))


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def start_scheduler(database_url: str, tmp_path: Path
                    ) -> Iterator[Callable[[str], subprocess.Popen]]:
    """Start ``custclass scheduler`` processes (logging to ``<name>.log``); all are
    killed at the end."""
    processes: list[subprocess.Popen] = []

    def start(name: str) -> subprocess.Popen:
        env = {**os.environ, **FAST, "DATABASE_URL": database_url}
        with (tmp_path / f"{name}.log").open("w") as log:
            process = subprocess.Popen([CUSTCLASS, "scheduler", "--standby-poll", "0.3"],
                                       env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_two_schedulers_never_run_at_once_and_a_stand_by_takes_over(
        app: Flask, engine: Engine, start_scheduler: Callable[[str], subprocess.Popen],
        tmp_path: Path) -> None:
    _demo(app, 300)
    first = start_scheduler("first")
    _wait_for(lambda: "active scheduler" in (tmp_path / "first.log").read_text(), 60,
              "the first scheduler to start")
    second = start_scheduler("second")
    _wait_for(lambda: "standing by" in (tmp_path / "second.log").read_text(), 60,
              "the second scheduler to stand by")
    for _ in range(6):
        _queue_some()
        time.sleep(0.7)
    _wait_for(lambda: len(_runs()) >= 4, 30, "changed runs")

    first.send_signal(signal.SIGKILL)
    first.wait()
    _queue_some()
    _wait_for(lambda: any(run.pid == second.pid for run in _runs()), 60,
              "the stand-by to take over")
    assert "taking over" in (tmp_path / "second.log").read_text()

    runs = [run for run in _runs() if run.kind == RunKind.CHANGED]
    assert {run.pid for run in runs} == {first.pid, second.pid}
    assert all(run.status in (RunStatus.FINISHED, RunStatus.INTERRUPTED) for run in runs[:-1])
    finished = [run for run in runs if run.finished_at is not None]
    for earlier, later in itertools.pairwise(finished):
        assert earlier.finished_at <= later.started_at, "two runs overlapped"
    assert "Traceback" not in (tmp_path / "first.log").read_text()


def test_the_jobs_run_only_when_there_is_work(app: Flask, engine: Engine) -> None:
    _demo(app, 40)
    scheduler._app = app
    scheduler.changed_job()
    scheduler.published_job()
    assert [run.kind for run in _runs()] == [RunKind.FULL]  # nothing queued or published

    _queue_some()
    scheduler.changed_job()
    tier = db.session.scalars(select(RulesetVersion).where(
        RulesetVersion.name == "service_tier")).one()
    publish(db.session, {"editor": {**tier.definition, "title": "Service tier, revised"}},
            datetime.now(UTC))
    db.session.commit()
    scheduler.published_job()
    scheduler.daily_job()
    assert [run.kind for run in _runs()] == [RunKind.FULL, RunKind.CHANGED,
                                             RunKind.PUBLISHED, RunKind.DUE]
    assert all(run.status == RunStatus.FINISHED for run in _runs())


def test_a_run_waits_for_the_run_in_progress(app: Flask, engine: Engine,
                                             database_url: str) -> None:
    _demo(app, 20)
    env = {**os.environ, "DATABASE_URL": database_url}
    with exclusive(engine, RUN_LOCK):
        waiting = subprocess.Popen(
            [CUSTCLASS, "reclassify", "--all", "--as-of",
             AS_OF.isoformat()], env=env, stdout=subprocess.PIPE, text=True)
        time.sleep(3)
        assert waiting.poll() is None, "the run did not wait for the lock"
    output, _ = waiting.communicate(timeout=60)
    assert waiting.returncode == 0 and "(full, as of" in output


@pytest.mark.parametrize(("name", "value"), [("CUSTCLASS_SCHEDULER_DAILY_AT", "25:00"),
                                           ("CUSTCLASS_SCHEDULER_DAILY_AT", "2am"),
                                           ("CUSTCLASS_SCHEDULER_CHANGED_MINUTES", "often"),
                                           ("CUSTCLASS_SCHEDULER_PUBLISHED_SECONDS", "-1")])
def test_the_scheduler_settings_are_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                            name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_config(str(tmp_path))
