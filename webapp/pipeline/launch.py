"""Starting a classification run from the web process (the dashboard, the API).

The run goes on in a background thread (:func:`webapp.background.start_in_background`)
holding the run lock like any other run; the caller gets the id of its
``classification_run`` row as soon as the thread has recorded it, and reads the status
from that row. A run already in progress (the scheduler's, a ``custclass reclassify``,
another started here) is not waited for: :class:`RunBusyError`.
"""

import threading
from datetime import date

from flask import Flask

from engine.domain import RunKind
from webapp.background import start_in_background
from webapp.clock import today
from webapp.database import db
from webapp.pipeline.runs import RunBusyError, reclassify

__all__ = ["START_TIMEOUT", "RunBusyError", "RunStartError", "start_run"]

#: Seconds to wait for the run to be recorded (it first waits for the database's writer
#: on SQLite, e.g. behind an import).
START_TIMEOUT = 60.0


class RunStartError(RuntimeError):
    """The run failed before it was recorded, or was not recorded in time."""


def start_run(app: Flask, kind: RunKind, as_of: date | None = None, *,
              timeout: float = START_TIMEOUT) -> int:
    """Start a run of ``kind`` on ``app``'s database in a background thread, evaluated
    as of ``as_of`` (default: the operator's today when it starts); returns the id of
    its ``ClassificationRun`` once recorded.

    :class:`RunBusyError` when another run holds the run lock; :class:`RunStartError`
    when the run failed before being recorded or was not recorded within ``timeout``
    seconds (it may still start: its row will say).
    """
    recorded = threading.Event()
    outcome: dict[str, int | Exception] = {}

    def started(run_id: int) -> None:
        outcome["run_id"] = run_id
        recorded.set()

    def refused(error: Exception) -> None:
        outcome.setdefault("error", error)
        recorded.set()

    def work() -> None:
        try:
            reclassify(db.session, kind, as_of or today(), wait=False, on_start=started,
                       processes=app.config["RUN_PROCESSES"])
        except RunBusyError as error:  # an answer, not a failure worth a traceback
            refused(error)

    start_in_background(app, f"run-{kind.value}", work, failed=refused)
    if not recorded.wait(timeout):
        raise RunStartError(f"the {kind.value} run was not recorded within {timeout:g} s; "
                            "it may still start: see the latest runs")
    run_id = outcome.get("run_id")
    if isinstance(run_id, int):
        return run_id
    error = outcome["error"]
    if isinstance(error, RunBusyError):
        raise RunBusyError("another classification run is in progress") from error
    raise RunStartError(f"the {kind.value} run could not start: "
                        f"{type(error).__name__}: {error}") from error
