"""``GET /api/v1/alerts``: the alert list of :mod:`webapp.alerting.alerts`, in the
caller's org scope, newest first, in keyset pages."""

from typing import Any

from flask_smorest import abort
from marshmallow import Schema, ValidationError, fields, validates

from webapp import clock
from webapp.alerting import alerts, vocabulary
from webapp.alerting.filters import known_type
from webapp.api import PREFIX
from webapp.api.access import caller_scope
from webapp.api.base import ApiBlueprint
from webapp.api.schemas import QuerySchema, Timestamp, limit_field
from webapp.database import db
from webapp.web.access import Permission

blueprint = ApiBlueprint("api-alerts", __name__, url_prefix=f"{PREFIX}/alerts",
                         description="Alerts on the customers and lines in the caller's "
                                     "org scope.")


class AlertQuerySchema(QuerySchema, alerts.AlertFilterSchema):
    """The web UI's alert filters; an alert type must be one the published rules raise."""

    limit = limit_field(alerts.PAGE)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(alert_types=(), **kwargs)

    @validates("alert_type")
    def _known_type(self, value: str, **_kwargs: Any) -> None:
        known_type(value, vocabulary.alert_types(db.session))


class AlertSchema(Schema):
    id = fields.Integer()
    raised_at = Timestamp()
    alert_type = fields.String()
    severity = fields.String()
    customer_code = fields.String()
    customer_name = fields.String()
    #: None for an alert on the customer itself.
    service_number = fields.String(allow_none=True)
    message = fields.String()
    open = fields.Boolean()
    cleared_at = Timestamp(allow_none=True)
    acknowledged_at = Timestamp(allow_none=True)
    acknowledged_by = fields.String(allow_none=True)


class AlertPageSchema(Schema):
    items = fields.List(fields.Nested(AlertSchema))
    next_before = fields.Integer(allow_none=True, metadata={
        "description": "pass as `before` for the next page; null on the last page"})


@blueprint.route("", methods=["GET"])
@blueprint.guard(Permission.READ_ALERTS)
@blueprint.arguments(AlertQuerySchema, location="query")
@blueprint.response(200, AlertPageSchema)
def list_alerts(query: dict[str, Any]) -> dict[str, Any]:
    """Alerts, newest first: filter by type, severity, status (open, cleared,
    acknowledged, unacknowledged), org unit and the days raised."""
    limit = query.pop("limit")
    conn = db.session.connection()
    try:
        alerts.check_filters(conn, query)
    except ValidationError as error:
        abort(400, message="a filter names what does not exist",
              errors={"query": error.messages})
    rows, following = alerts.page(conn, query, caller_scope(), clock.zone(), limit)
    return {"items": rows, "next_before": following}
