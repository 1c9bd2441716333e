"""``GET /api/v1/target-lists``: the target lists of :mod:`webapp.alerting.targets` (the
customer lists, and one list of open alerts per alert type of the published rules), in
the caller's org scope, with the filters each offers on its web page."""

from typing import Any

from flask import request
from flask_smorest import abort
from marshmallow import EXCLUDE, Schema, ValidationError, fields

from engine.domain import ClassifiedAttribute
from webapp import clock
from webapp.alerting import alerts, targets, vocabulary
from webapp.alerting.chosen import choose_list, list_filters
from webapp.alerting.targets import Subject
from webapp.api import PREFIX
from webapp.api.access import caller_scope
from webapp.api.alerts import AlertSchema
from webapp.api.base import ApiBlueprint
from webapp.api.schemas import QuerySchema, Timestamp, limit_field
from webapp.database import db
from webapp.web.access import Permission

blueprint = ApiBlueprint("api-target-lists", __name__,
                         url_prefix=f"{PREFIX}/target-lists",
                         description="Lists of customers and of open alerts for front-line "
                                     "staff, in the caller's org scope.")


class TargetListSchema(Schema):
    name = fields.String()
    subject = fields.String(metadata={"description": "customers or alerts"})
    filters = fields.List(fields.String(), attribute="inputs",
                          metadata={"description": "the query parameters the list reads"})


class TargetQuerySchema(QuerySchema, targets.CustomerFilterSchema,
                        alerts.AlertFilterSchema):
    """Every filter of every list; a list reads those it offers (as on its web page)."""

    class Meta:
        unknown = EXCLUDE
        #: Fixed by the lists themselves.
        exclude = ("status", "new_this_month")

    limit = limit_field(targets.PAGE)

    def __init__(self, **kwargs: Any) -> None:
        Schema.__init__(self, **kwargs)

    @property
    def alert_types(self) -> list[str]:  # type: ignore[override]
        return vocabulary.alert_types(db.session)

    @property
    def tiers(self) -> list[str]:  # type: ignore[override]
        return vocabulary.attribute_values(db.session, ClassifiedAttribute.SERVICE_TIER)


class TargetCustomerSchema(Schema):
    code = fields.String()
    name = fields.String()
    statistical_attribute = fields.String(allow_none=True)
    marketing_attribute = fields.String(allow_none=True)
    service_tier = fields.String(allow_none=True)
    lifecycle_stage = fields.String(allow_none=True)
    lines = fields.Integer()
    revenue_this_month = fields.Decimal(as_string=True, allow_none=True, metadata={
        "description": "yuan; null when no line has data for this month"})
    revenue_avg_3m = fields.Decimal(as_string=True, metadata={"description": "yuan"})
    arrived = Timestamp()


class TargetPageSchema(Schema):
    list = fields.String()
    subject = fields.String()
    customers = fields.List(fields.Nested(TargetCustomerSchema), allow_none=True, metadata={
        "description": "a customer list's rows, by code (null for an alert list)"})
    alerts = fields.List(fields.Nested(AlertSchema), allow_none=True, metadata={
        "description": "an alert list's rows, newest first (null for a customer list)"})
    next_after = fields.String(allow_none=True, metadata={
        "description": "customer lists: pass as `after` for the next page"})
    next_before = fields.Integer(allow_none=True, metadata={
        "description": "alert lists: pass as `before` for the next page"})


@blueprint.route("", methods=["GET"])
@blueprint.guard(Permission.READ_ALERTS)
@blueprint.response(200, TargetListSchema(many=True))
def list_lists() -> Any:
    """Every target list and the filters it reads."""
    return targets.target_lists(vocabulary.alert_types(db.session))


@blueprint.route("/<list_name>", methods=["GET"])
@blueprint.guard(Permission.READ_ALERTS)
@blueprint.arguments(TargetQuerySchema, location="query")
@blueprint.response(200, TargetPageSchema)
@blueprint.alt_response(404, response="NOT_FOUND")
def show_list(query: dict[str, Any], list_name: str) -> Any:
    """A page of a list. Customer lists go by code (`after`), alert lists newest first
    (`before`); the list reads the filters it offers and ignores the others."""
    found = choose_list(db.session, list_name)
    if found is None:
        abort(404, message=f"no target list {list_name!r}")
    chosen, vocabularies = found
    conn = db.session.connection()
    try:
        filters = list_filters(conn, chosen, request.args.to_dict(), vocabularies)
    except ValidationError as error:
        abort(400, errors={"query": error.messages})
    page: dict[str, Any] = {"list": chosen.name, "subject": chosen.subject.value,
                            "customers": None, "alerts": None, "next_after": None,
                            "next_before": None}
    if chosen.subject is Subject.CUSTOMERS:
        page["customers"], page["next_after"] = targets.customer_page(
            conn, filters, caller_scope(), clock.today(), clock.zone(), query["limit"])
    else:
        page["alerts"], page["next_before"] = alerts.page(
            conn, filters, caller_scope(), clock.zone(), query["limit"])
    return page
