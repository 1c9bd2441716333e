"""Killing a run with SIGKILL at any point and starting it again finishes its work: no
change lost, no adjustment-log row or alert doubled.

Two databases get the same demo province. On A each run goes through uninterrupted; on B
the same run is started as a real ``custclass`` process (in one process, or with worker
processes) and killed with SIGKILL several times at random points, then run again to its
end. After every kill no process of the run is left, the log chain is intact and agrees
with the stored values; in the end B is exactly A: decisions, due dates, open and
cleared alerts, the same adjustment-log rows (one per value change), the queue empty,
and every killed run marked ``interrupted`` (or ``finished``, killed after its last
commit).
"""

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from itertools import count
from pathlib import Path

import flask_migrate
import psutil
import pytest
from flask import Flask
from sqlalchemy import Connection, Engine, create_engine, exists, func, select

from engine.domain import RunStatus
from tests.conftest import make_app, new_database
from tests.feeds.helpers import feed_file
from tests.test_incremental import assert_no_open_alert_twice, stored_state
from tests.test_pipeline import AS_OF
from webapp.audit import chain
from webapp.classification.facts import report_month
from webapp.database import db
from webapp.demo import generate
from webapp.models import (
    AdjustmentLogEntry,
    Alert,
    ClassificationRun,
    CustomerDecision,
    PendingChange,
    Subscriber,
    SubscriberDecision,
)

LINES, SEED = 1000, 3
#: Customers per chunk (one transaction each) in the killed runs, far fewer than in a
#: real run: kills then land between commits as well as inside them.
CHUNK = 40
#: ``custclass`` with chunks of ``argv[1]`` customers.
SMALL_CHUNKS = """
import sys
if __name__ == "__main__":
    from webapp.classification import run
    from webapp.pipeline import runs
    run.all_customers.__defaults__ = (int(sys.argv.pop(1)),)
    runs.CHUNK = run.all_customers.__defaults__[0]
    from webapp.cli import main
    main(prog_name="custclass")
"""


@pytest.fixture
def twin_url(backend: str, tmp_path: Path) -> Iterator[str]:
    yield from new_database(backend, tmp_path)


@pytest.fixture
def twin(twin_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The application on a second database, migrated (its context is not pushed)."""
    application = make_app(twin_url, tmp_path / "twin")
    with application.app_context():
        flask_migrate.upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def twin_engine(twin_url: str) -> Iterator[Engine]:
    """An engine of the test's own on the second database, to watch the killed runs."""
    engine = create_engine(twin_url)
    yield engine
    engine.dispose()


def custclass(app: Flask, *args: str) -> str:
    """Run a ``custclass`` command on ``app``'s database in this process; its output."""
    with app.app_context():  # or the command runs in the context already pushed
        result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _load(app: Flask, files: list[tuple[str, Path]]) -> None:
    for feed, path in files:
        custclass(app, "import", feed, str(path))
    custclass(app, "rules", "publish")


def _query(engine: Engine, read: Callable[[Connection], object]) -> object:
    with engine.connect() as conn:
        return read(conn)


def _logged(conn: Connection) -> int:
    return conn.scalar(select(func.count()).select_from(AdjustmentLogEntry)) or 0


def _running(pid: int) -> object:
    return select(ClassificationRun.id).where(ClassificationRun.pid == pid,
                                               ClassificationRun.status == RunStatus.RUNNING)


#: When a kill's delay starts: at the process's start, once its run is recorded, or once
#: the run has committed a chunk with adjustment-log rows (by process id) ...
MOMENTS: dict[str, Callable[[int], object]] = {
    "start": lambda pid: None,
    "running": lambda pid: exists(_running(pid)),
    "writing": lambda pid: exists().where(AdjustmentLogEntry.run_id.in_(_running(pid))),
}
#: ... and how long it may last, from how long a run takes: the start-up (about two
#: seconds) and a little of the run; the whole run; an early part of it, so that the
#: run stops half-way.
DELAYS: dict[str, Callable[[float], float]] = {
    "start": lambda seconds: 2 + seconds / 4,
    "running": lambda seconds: seconds,
    "writing": lambda seconds: seconds / 4,
}


@dataclass(frozen=True)
class Kill:
    """A killed run: its process, when it was killed, whether it still ran by then, and
    the adjustment-log rows of the database after it."""

    pid: int
    moment: str
    delay: float
    killed: bool
    logged: int


@dataclass
class Killer:
    """Starts ``custclass`` runs on the second database and kills them."""

    url: str
    engine: Engine
    rng: random.Random
    #: Where each process's output goes (a pipe would be held open by orphans).
    folder: Path
    outputs: Iterator[int] = field(default_factory=count)

    def run_and_kill(self, args: list[str], moment: str, seconds: float) -> Kill:
        """Start ``custclass`` with ``args``; SIGKILL it a random time after ``moment``
        (up to ``seconds``, as long as a run takes); check that no process of it is left
        and that the log chain is intact."""
        delay = self.rng.uniform(0, DELAYS[moment](seconds))
        output = self.folder / f"run-{next(self.outputs)}.log"
        with output.open("w") as log:
            process = subprocess.Popen([sys.executable, "-c", SMALL_CHUNKS, str(CHUNK), *args],
                                       env={**os.environ, "DATABASE_URL": self.url},
                                       stdout=log, stderr=subprocess.STDOUT)
        family: list[psutil.Process] = []
        try:
            self._watch(process, MOMENTS[moment](process.pid))
            self._watch(process, None, time.monotonic() + delay)
            with suppress(psutil.NoSuchProcess):
                family = psutil.Process(process.pid).children(recursive=True)
        finally:
            process.kill()
            process.wait(timeout=60)
        assert process.returncode in (0, -signal.SIGKILL), output.read_text()
        _, alive = psutil.wait_procs(family, timeout=20)
        for orphan in alive:
            orphan.kill()
        assert not alive, f"processes of the killed run still alive: {alive}"
        with self.engine.connect() as conn:
            report = chain.verify(conn)
            assert report.ok, report.reason
            assert _log_disagrees(conn) == {}
            return Kill(process.pid, moment, delay, process.returncode != 0, _logged(conn))

    def _watch(self, process: subprocess.Popen[bytes], condition: object,
               until: float | None = None) -> None:
        """Until ``condition`` holds (or the time ``until``, or the process ends), check
        every few milliseconds that what the run committed so far is consistent."""
        deadline = until or time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            with self.engine.connect() as conn:
                _assert_logged_as_written(conn, process.pid)
                if condition is not None and conn.scalar(select(condition)):
                    return
            time.sleep(0.02)
        assert until or process.poll() is not None, f"the run never reached {condition}"


def _assert_logged_as_written(conn: Connection, pid: int) -> None:
    """The run of ``pid`` (if running) has committed one adjustment-log row per value it
    committed: the two are written in one transaction (read in one statement)."""
    run = conn.scalar(_running(pid))
    if run is not None:
        logged, customers, lines = conn.execute(select(*(
            select(func.count()).where(column == run).scalar_subquery()
            for column in (AdjustmentLogEntry.run_id, CustomerDecision.run_id,
                           SubscriberDecision.run_id)))).one()
        assert logged == customers + lines, f"run {run}: log rows and values written apart"


def _log_disagrees(conn: Connection) -> dict[tuple[object, ...], tuple[object, object]]:
    """Decisions whose value is not the new value of their latest adjustment-log row:
    (subject, id, attribute) -> (stored, logged)."""
    entry, logged = AdjustmentLogEntry, {}
    for row in conn.execute(select(entry.customer_id, entry.subscriber_id, entry.attribute,
                                   entry.new_value).order_by(entry.chain_seq)):
        subject = ("subscriber", row.subscriber_id) if row.customer_id is None \
            else ("customer", row.customer_id)
        logged[*subject, str(row.attribute)] = row.new_value
    stored = {key: value for key, (value, _) in stored_state(conn).decisions.items()}
    return {key: (stored.get(key), logged.get(key)) for key in stored.keys() | logged.keys()
            if stored.get(key) != logged.get(key)}


def _log_rows(conn: Connection) -> Counter[tuple[object, ...]]:
    entry = AdjustmentLogEntry
    return Counter(conn.execute(select(entry.customer_id, entry.subscriber_id, entry.attribute,
                                       entry.old_value, entry.new_value, entry.rule_id)).all())


def _alert_rows(conn: Connection) -> Counter[tuple[object, ...]]:
    return Counter(conn.execute(select(Alert.subscriber_id, Alert.alert_type, Alert.rule_id,
                                       Alert.severity, Alert.cleared_at.is_(None))).all())


def _assert_same_end(reference: Engine, killed: Engine) -> None:
    """The killed database ends as the reference: decisions, due dates, alerts (open or
    cleared), adjustment-log rows; its queue is empty."""
    with reference.connect() as ref, killed.connect() as conn:
        expected, state = stored_state(ref), stored_state(conn)
        assert_no_open_alert_twice(state)
        assert state.differences(expected) == {}
        assert state.due == expected.due
        assert _alert_rows(conn) == _alert_rows(ref)
        assert _log_rows(conn) == _log_rows(ref)
        assert _log_disagrees(conn) == {}
        assert conn.scalar(select(func.count()).select_from(PendingChange)) == 0


def _statuses(kill: Kill, logged: int) -> set[RunStatus]:
    """What a killed run may be marked: a run that ended on its own, finished; one killed
    with work left (the log grew after it: ``logged`` rows in the end), interrupted; one
    killed after its last commit, either."""
    if not kill.killed:
        return {RunStatus.FINISHED}
    if kill.logged < logged:
        return {RunStatus.INTERRUPTED}
    return {RunStatus.FINISHED, RunStatus.INTERRUPTED}


def _kill_and_finish(twin: Flask, killer: Killer, args: list[str], moments: list[str],
                     seconds: float, processes: int) -> list[Kill]:
    """Kill a run of ``args`` (with ``processes`` workers) once per moment, up to
    ``seconds`` after it; run it to its end in this process; check how the killed runs
    were marked and that the log verifies."""
    first = _query(killer.engine, lambda conn: conn.scalar(
        select(func.coalesce(func.max(ClassificationRun.id), 0))))
    kills = [killer.run_and_kill([*args, "--processes", str(processes)], moment, seconds)
             for moment in moments]
    finished = custclass(twin, *args)
    assert " finished: " in finished, finished
    runs = _query(killer.engine, lambda conn: conn.execute(
        select(ClassificationRun.pid, ClassificationRun.status)
        .where(ClassificationRun.id > first).order_by(ClassificationRun.id)).all())
    assert tuple(runs[-1]) == (os.getpid(), RunStatus.FINISHED)
    logged = _query(killer.engine, _logged)
    by_pid = {kill.pid: kill for kill in kills}
    assert all(status in _statuses(by_pid[pid], logged) for pid, status in runs[:-1]), \
        (runs, kills)
    assert "adjustment log intact" in custclass(twin, "audit", "verify")
    return kills


def _revised_revenue(folder: Path, day: date, rng: random.Random, numbers: list[str]) -> Path:
    """The latest complete month's revenue of every line, all revised."""
    month = report_month(day).strftime("%Y-%m")
    rows = [[number, month, *(f"{rng.randrange(0, 300)}.{rng.randrange(100):02d}"
                              for _ in range(5)),
             *(str(rng.choice([0, rng.randrange(5000)])) for _ in range(5))]
            for number in numbers]
    return feed_file(folder, "revenue", rows)


def _seconds(engine: Engine) -> float:
    """How long the latest run took."""
    run = _query(engine, lambda conn: conn.execute(
        select(ClassificationRun.started_at, ClassificationRun.finished_at)
        .order_by(ClassificationRun.id.desc()).limit(1)).one())
    return (run.finished_at - run.started_at).total_seconds()


@pytest.mark.slow
def test_killed_runs_started_again_end_as_an_uninterrupted_run(
        app: Flask, engine: Engine, twin: Flask, twin_url: str, twin_engine: Engine,
        tmp_path: Path) -> None:
    seed = random.randrange(2**32)
    print(f"kill delays and revenue seeded with {seed}")
    killer = Killer(twin_url, twin_engine, random.Random(seed), tmp_path)
    day = AS_OF.isoformat()
    files = generate(tmp_path / "demo", LINES, SEED, AS_OF)
    _load(app, files)
    _load(twin, files)

    # A full run, killed at several points.
    full = ["reclassify", "--all", "--as-of", day]
    custclass(app, *full)
    kills = _kill_and_finish(twin, killer, full, ["writing", "start", "running"],
                             _seconds(engine), processes=0)
    logged = _query(engine, _logged)
    # A run stopped half-way (which needs the small chunks of SMALL_CHUNKS).
    assert any(0 < kill.logged < logged for kill in kills), kills
    _assert_same_end(engine, twin_engine)
    assert max(_query(engine, _log_rows).values()) == 1  # one row per value set

    # A changed run (worker processes) after a revenue file revising every line.
    numbers = _query(engine, lambda conn: list(conn.scalars(select(Subscriber.service_number))))
    revenue = _revised_revenue(tmp_path, AS_OF, random.Random(seed), numbers)
    for database in (app, twin):
        custclass(database, "import", "revenue", str(revenue))
    changed = ["reclassify", "--changed", "--as-of", day]
    custclass(app, *changed)
    kills = _kill_and_finish(twin, killer, changed, ["writing", "running"], _seconds(engine),
                             processes=2)
    assert any(logged < kill.logged < _query(engine, _logged) for kill in kills), kills
    _assert_same_end(engine, twin_engine)
