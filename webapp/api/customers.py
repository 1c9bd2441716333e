"""``GET /api/v1/customers/<code>`` and ``GET /api/v1/subscribers/<service_number>``: the
current classification with its source and the reason in words
(:mod:`webapp.classification.why`), within the caller's org scope. A customer outside
the scope answers 404, as one that does not exist: its existence is not disclosed."""

from typing import Any

from flask_smorest import abort
from marshmallow import Schema, fields
from sqlalchemy import select

from webapp.api import PREFIX
from webapp.api.access import caller_scope
from webapp.api.base import ApiBlueprint
from webapp.api.schemas import Timestamp
from webapp.classification.why import explain_customer
from webapp.database import db
from webapp.models import Alert, Customer, Subscriber
from webapp.web.access import Permission

blueprint = ApiBlueprint("api-customers", __name__, url_prefix=f"{PREFIX}/customers",
                         description="A customer's classification and why.")


class WhySchema(Schema):
    """One attribute's value and where it came from: a rule, or a person's pin."""

    attribute = fields.String()
    value = fields.String()
    source = fields.String(metadata={"description": "rule or pin"})
    decided_at = Timestamp()
    rule_id = fields.String(allow_none=True, metadata={"description": "`default`: no rule "
                                                                       "matched"})
    rule_title = fields.String(allow_none=True)
    ruleset = fields.String(allow_none=True)
    version = fields.Integer(allow_none=True)
    run_id = fields.Integer(allow_none=True)
    because = fields.String(allow_none=True, metadata={
        "description": "the condition in words with the values read, e.g. "
                       "`revenue_avg_3m 312.50 ≥ 300 and tenure_months 30 ≥ 24`"})
    facts = fields.Dict(keys=fields.String(), allow_none=True,
                        metadata={"description": "the facts the rule read"})
    pinned_by = fields.String(allow_none=True)
    pin_reason = fields.String(allow_none=True)
    pin_expires_at = Timestamp(allow_none=True)
    rule_value = fields.String(allow_none=True, metadata={
        "description": "while pinned: what the rules decide"})


class LineSchema(Schema):
    service_number = fields.String()
    name = fields.String()
    status = fields.String()
    classification = fields.List(fields.Nested(WhySchema), attribute="decisions")


class CustomerAlertSchema(Schema):
    id = fields.Integer()
    alert_type = fields.String()
    severity = fields.String()
    message = fields.String()
    #: None for an alert on the customer itself.
    service_number = fields.String(allow_none=True)
    rule_id = fields.String()
    ruleset = fields.String(attribute="ruleset_name")
    version = fields.Integer(attribute="ruleset_version")
    facts = fields.Dict(keys=fields.String())
    raised_at = Timestamp()
    cleared_at = Timestamp(allow_none=True)
    acknowledged_at = Timestamp(allow_none=True)


class CustomerSchema(Schema):
    code = fields.String()
    name = fields.String()
    contract_number = fields.String()
    vip_card = fields.String()
    key_account_code = fields.String(allow_none=True)
    arrived_at = Timestamp(attribute="created_at")
    evaluated_at = Timestamp(allow_none=True)


class CustomerExplanationSchema(Schema):
    customer = fields.Nested(CustomerSchema)
    classification = fields.List(fields.Nested(WhySchema), attribute="decisions")
    line_count = fields.Integer(metadata={"description": "all the customer's lines"})
    lines = fields.List(fields.Nested(LineSchema), metadata={
        "description": "the first lines by service number (at most 200)"})
    alerts = fields.List(fields.Nested(CustomerAlertSchema), metadata={
        "description": "open alerts first, then the latest cleared (at most 200)"})


class LineExplanationSchema(LineSchema):
    customer = fields.Nested(CustomerSchema)
    customer_classification = fields.List(fields.Nested(WhySchema))
    alerts = fields.List(fields.Nested(CustomerAlertSchema), metadata={
        "description": "the line's alerts: open first, then the latest cleared"})


def customer_in_scope(*conditions: Any) -> Customer | None:
    """The customer meeting ``conditions`` if it is in the caller's org scope."""
    return db.session.scalar(select(Customer).where(*conditions,
                                                    caller_scope().customers()))


def alert_documents(alerts: list[Alert]) -> list[dict[str, Any]]:
    """Alerts with the service number of their line."""
    lines = {alert.subscriber_id for alert in alerts if alert.subscriber_id is not None}
    numbers = dict(db.session.execute(select(Subscriber.id, Subscriber.service_number)
                                      .where(Subscriber.id.in_(lines))).all()) if lines else {}
    return [{**{column: getattr(alert, column) for column in (
        "id", "alert_type", "severity", "message", "rule_id", "ruleset_name",
        "ruleset_version", "facts", "raised_at", "cleared_at", "acknowledged_at")},
        "service_number": numbers.get(alert.subscriber_id)} for alert in alerts]


@blueprint.route("/<code>", methods=["GET"])
@blueprint.guard(Permission.READ_CUSTOMERS)
@blueprint.response(200, CustomerExplanationSchema)
@blueprint.alt_response(404, response="NOT_FOUND")
def show_customer(code: str) -> Any:
    """A customer's classification: every attribute's value, its source (rule and
    ruleset version, or pin with person, reason and expiry) and why in words; its lines
    with theirs; its alerts."""
    customer = customer_in_scope(Customer.code == code) \
        if len(code) <= 40 and code.isprintable() else None
    if customer is None:
        abort(404, message="no such customer in the token's org scope")
    explained = explain_customer(db.session, customer)
    return {**vars(explained), "alerts": alert_documents(explained.alerts)}
