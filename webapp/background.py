"""Work beside the request: a thread of the web process with an app context of its own.

Used for work too long for a request (an impact preview, a classification run started
from the dashboard). The thread is a daemon: stopping the web process stops it
mid-way, so its work must survive that (a preview left ``running`` is marked failed
later; a run left ``running`` is marked interrupted by the next run, which finishes
its work).
"""

import logging
import threading
from collections.abc import Callable

from flask import Flask

from webapp.database import db

log = logging.getLogger(__name__)


def start_in_background(app: Flask, name: str, work: Callable[[], None], *,
                        failed: Callable[[Exception], None]) -> threading.Thread:
    """Run ``work()`` in a daemon thread called ``name``, in an app context of ``app``
    whose database session is its own (removed at the end). When ``work`` raises, the
    session is rolled back and ``failed(error)`` runs in the same context to record it."""
    def run() -> None:
        with app.app_context():
            try:
                work()
            except Exception as error:
                log.exception("background work %s failed", name)
                db.session.rollback()
                failed(error)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread
