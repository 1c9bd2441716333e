"""The home page is the dashboard: the state of the data in the signed-in person's org
scope (charts and their numbers), the latest runs, and "run now" for admins.

The figures come from :mod:`webapp.dashboard.figures`; a run started here goes on in a
thread of the web process (:mod:`webapp.pipeline.launch`) while the page polls its
status.
"""

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField
from wtforms.validators import InputRequired

from engine.domain import RunKind
from webapp.clock import today, zone
from webapp.dashboard.figures import figures
from webapp.database import db
from webapp.models import ClassificationRun
from webapp.pipeline.launch import RunBusyError, RunStartError, start_run
from webapp.scope import scope_of
from webapp.web import labels
from webapp.web.access import Permission, requires

blueprint = Blueprint("home", __name__)

#: The runs an admin may start by hand: the queue, the daily run, everyone. (A
#: *published* run is the scheduler's answer to a publication.)
STARTABLE = (RunKind.CHANGED, RunKind.DUE, RunKind.FULL)


class RunNowForm(FlaskForm):
    kind = SelectField(_l("Run"), validators=[InputRequired()],
                       choices=[SelectChoice(kind.value, labels.RUN_KINDS[kind])
                                for kind in STARTABLE])


@blueprint.route("/")
@requires(Permission.HOME)
def index() -> Any:
    conn = db.session.connection()
    scope = scope_of(conn, current_user)
    return render_template("home.html", figures=figures(conn, scope, today(), zone()),
                           whole_province=scope.whole_province, form=RunNowForm())


@blueprint.route("/runs", methods=["POST"])
@requires(Permission.RUN_PIPELINE)
def run_now() -> Any:
    form = RunNowForm()
    if not form.validate_on_submit():
        problems = "; ".join(f"{name}: {', '.join(map(str, errors))}"
                             for name, errors in form.errors.items())
        abort(400, _("The run was not started: %(problems)s", problems=problems))
    kind = RunKind(form.kind.data)
    try:
        run_id = start_run(current_app._get_current_object(), kind)  # type: ignore[attr-defined]
    except RunBusyError:
        flash(_("A run is already in progress: start another one when it has finished."),
              "warning")
    except RunStartError as error:
        flash(_("The run could not start: %(error)s", error=str(error)), "danger")
    else:
        flash(_("Run #%(id)s (%(kind)s) started.", id=run_id, kind=labels.RUN_KINDS[kind]),
              "success")
    return redirect(url_for(".index"))


@blueprint.route("/runs/<int:run_id>")
@requires(Permission.HOME)
def run_status(run_id: int) -> Any:
    """A run's status as JSON (the dashboard polls it while the run is going)."""
    run = db.session.get(ClassificationRun, run_id)
    if run is None:
        abort(404)
    return jsonify(id=run.id, kind=run.kind.value, status=run.status.value,
                   customers=run.customers, subscribers=run.subscribers,
                   changes=run.changes, started_at=_utc(run.started_at),
                   finished_at=_utc(run.finished_at))


def _utc(moment: datetime | None) -> str | None:
    """A stored time as ISO 8601 in UTC (SQLite gives it back naive)."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
