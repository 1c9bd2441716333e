"""``POST /api/v1/subscribers``: subscriber records from billing, one or many at a time,
with the rules of the subscribers feed (:mod:`webapp.feeds.records`);
``GET /api/v1/subscribers/<service_number>``: a line's classification and why."""

from typing import Any

from flask_smorest import abort
from marshmallow import Schema, ValidationError, fields, pre_load
from sqlalchemy import func, select

from webapp.api import PREFIX
from webapp.api.access import caller, caller_token
from webapp.api.base import ApiBlueprint
from webapp.api.customers import LineExplanationSchema, alert_documents, customer_in_scope
from webapp.classification.why import ALERTS, explain_customer
from webapp.database import db
from webapp.feeds.definitions import FEEDS
from webapp.feeds.fields import Choice, Count, Day, FeedField, Flag, Money, Month, Text
from webapp.feeds.records import import_records, load_record
from webapp.feeds.rows import FeedSchema, RowLoader
from webapp.feeds.schemas import SubscriberRow
from webapp.models import Alert, Customer, Subscriber
from webapp.web.access import Permission

blueprint = ApiBlueprint("api-subscribers", __name__, url_prefix=f"{PREFIX}/subscribers",
                         description="Subscriber lines: send billing's records, read a "
                                     "line's classification.")

#: Records in one request (a bigger batch belongs in a feed file).
MAX_RECORDS = 1000


def _cell_document(field: FeedField) -> dict[str, Any]:
    """How a feed column's value is written in JSON, for the OpenAPI document."""
    if isinstance(field, Text):
        document: dict[str, Any] = {"type": "string", "maxLength": field.max_length}
        if field.pattern is not None:
            document["pattern"] = f"^(?:{field.pattern.pattern})$"
        return document
    if isinstance(field, Choice):
        return {"type": "string", "enum": sorted(field.accepted)}
    if isinstance(field, Flag):
        return {"anyOf": [{"type": "boolean"}, {"type": "string"}],
                "description": "true/false, 1/0, Y/N, 是/否"}
    if isinstance(field, Count):
        return {"anyOf": [{"type": "integer", "minimum": 0, "maximum": field.maximum},
                          {"type": "string"}]}
    if isinstance(field, Money):
        return {"anyOf": [{"type": "number"}, {"type": "string"}],
                "description": "yuan, at most two decimals"}
    if isinstance(field, Day):
        return {"type": "string", "description": "YYYY-MM-DD or YYYYMMDD"}
    if isinstance(field, Month):
        return {"type": "string", "description": "YYYY-MM or YYYYMM"}
    raise TypeError(f"no JSON form for {type(field).__name__}")


def record_document(schema: type[FeedSchema]) -> dict[str, Any]:
    """A feed row schema as the JSON object a record is."""
    columns = {field.data_key or name: field for name, field in schema.feed_fields().items()}
    return {"type": "object", "additionalProperties": False,
            "properties": {column: _cell_document(field) for column, field in columns.items()},
            "required": [column for column, field in columns.items() if field.required]}


class FeedRecord(fields.Field):
    """One record of a feed, checked by the feed's row schema; errors by column."""

    def __init__(self, schema: type[FeedSchema], **kwargs: Any) -> None:
        super().__init__(metadata=record_document(schema), **kwargs)
        self.loader = RowLoader(schema)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return load_record(self.loader, value)


class SubscriberRecordsSchema(Schema):
    records = fields.List(FeedRecord(SubscriberRow), required=True, metadata={
        "description": f"1 to {MAX_RECORDS} records; a record's key is its service number",
        "minItems": 1, "maxItems": MAX_RECORDS})

    @pre_load
    def _bounded(self, data: Any, **_kwargs: Any) -> Any:
        """Refuse an oversized batch before checking any record of it."""
        records = data.get("records") if isinstance(data, dict) else None
        if isinstance(records, list) and not 1 <= len(records) <= MAX_RECORDS:
            raise ValidationError(f"1 to {MAX_RECORDS} records per request, got "
                                  f"{len(records)}", "records")
        return data


class RecordsResultSchema(Schema):
    inserted = fields.Integer(metadata={"description": "new lines"})
    updated = fields.Integer(metadata={"description": "lines whose values changed (queued "
                                                     "for re-classification)"})
    unchanged = fields.Integer()
    notes = fields.List(fields.String())


@blueprint.route("", methods=["POST"])
@blueprint.guard(Permission.SUBMIT_RECORDS)
@blueprint.arguments(SubscriberRecordsSchema)
@blueprint.response(200, RecordsResultSchema)
@blueprint.alt_response(409, response="CONFLICT")
def submit_records(body: dict[str, Any]) -> Any:
    """Store subscriber records as the subscribers feed does: upsert by service number,
    a new contract number creates its customer, changed lines are queued for
    re-classification. All or nothing: with any bad record nothing is stored, and the
    answer names each bad record (by position) and field."""
    token, owner = caller_token(), caller()
    source = f"API token #{token.id} ({token.name}), {owner.username}"
    db.session.rollback()  # the import works on a connection of its own
    result = import_records(db.engine, FEEDS["subscribers"], body["records"], source=source)
    if result.errors:
        abort(400, message=f"{len(result.errors)} bad record(s); nothing was stored",
              errors={"json": {"records": result.errors}})
    if result.refused:
        abort(409, message=result.refused)
    return result


@blueprint.route("/<service_number>", methods=["GET"])
@blueprint.guard(Permission.READ_CUSTOMERS)
@blueprint.response(200, LineExplanationSchema)
@blueprint.alt_response(404, response="NOT_FOUND")
def show_subscriber(service_number: str) -> Any:
    """A line's classification (its community) and its customer's, each with its source
    and why in words, and the line's alerts (open first, then the latest cleared)."""
    line = db.session.scalar(select(Subscriber).where(
        Subscriber.service_number == service_number)) \
        if len(service_number) <= 20 and service_number.isascii() \
        and service_number.isdigit() else None
    customer = customer_in_scope(Customer.id == line.customer_id) if line else None
    if line is None or customer is None:
        abort(404, message="no such line in the token's org scope")
    # The explanation lists lines by service number: explain up to this one.
    position = db.session.scalar(select(func.count()).where(
        Subscriber.customer_id == customer.id,
        Subscriber.service_number <= line.service_number))
    explained = explain_customer(db.session, customer, lines=position, alerts=0)
    alerts = db.session.scalars(
        select(Alert).where(Alert.subscriber_id == line.id)
        .order_by(Alert.cleared_at.is_not(None), Alert.raised_at.desc(), Alert.id.desc())
        .limit(ALERTS)).all()
    return {**vars(explained.lines[-1]), "customer": customer,
            "customer_classification": explained.decisions,
            "alerts": alert_documents(list(alerts))}
