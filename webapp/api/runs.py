"""``POST /api/v1/runs`` starts a classification run (:mod:`webapp.pipeline.launch`),
``GET /api/v1/runs/<id>`` follows it."""

from typing import Any

from flask import current_app, url_for
from flask_smorest import abort
from marshmallow import Schema, fields, validate

from engine.domain import RunKind
from webapp.api import PREFIX
from webapp.api.base import ApiBlueprint
from webapp.api.schemas import Timestamp, evaluation_date
from webapp.database import db
from webapp.models import ClassificationRun
from webapp.pipeline.launch import RunBusyError, RunStartError, start_run
from webapp.web.access import Permission
from webapp.web.home import STARTABLE

blueprint = ApiBlueprint("api-runs", __name__, url_prefix=f"{PREFIX}/runs",
                         description="Classification runs: start one, follow it.")


class RunRequestSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(
        [kind.value for kind in STARTABLE]), metadata={
        "description": "changed: the queue; due: what the date alone changes, and the "
                       "queue; full: everyone"})
    as_of = evaluation_date()


class RunSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    status = fields.String(metadata={"description": "running, finished, failed or "
                                                    "interrupted"})
    as_of = fields.Date()
    started_at = Timestamp()
    finished_at = Timestamp(allow_none=True)
    customers = fields.Integer()
    subscribers = fields.Integer()
    changes = fields.Dict(keys=fields.String(), metadata={
        "description": "values written: decisions, alerts raised and cleared, pins "
                       "released"})
    errors = fields.Dict(keys=fields.String(), metadata={
        "description": "records a ruleset could not decide, by ruleset"})
    detail = fields.String(allow_none=True)


@blueprint.route("", methods=["POST"])
@blueprint.guard(Permission.RUN_PIPELINE)
@blueprint.arguments(RunRequestSchema)
@blueprint.response(202, RunSchema)
@blueprint.alt_response(409, response="CONFLICT")
@blueprint.alt_response(503, response="SERVICE_UNAVAILABLE")
def start(body: dict[str, Any]) -> Any:
    """Start a run; it goes on in the background (follow it at the `Location` given).
    409 while another run (the scheduler's, a command's) is in progress."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        run_id = start_run(app, RunKind(body["kind"]), body["as_of"])
    except RunBusyError:
        abort(409, message="another classification run is in progress: start this one "
                           "when it has finished")
    except RunStartError as error:
        abort(503, message=str(error))
    return db.session.get(ClassificationRun, run_id), {
        "Location": url_for(".show_run", run_id=run_id)}


@blueprint.route("/<int:run_id>", methods=["GET"])
@blueprint.guard(Permission.HOME)
@blueprint.response(200, RunSchema)
@blueprint.alt_response(404, response="NOT_FOUND")
def show_run(run_id: int) -> Any:
    """A run's status and what it did so far."""
    run = db.session.get(ClassificationRun, run_id) if run_id <= 2**31 - 1 else None
    if run is None:
        abort(404, message=f"no run #{run_id}")
    return run
