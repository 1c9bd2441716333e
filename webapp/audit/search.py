"""Searching the adjustment log: filters, newest first, keyset pages, streamed export.

Pages are keyed by ``chain_seq`` (the log's order): a page is "the N rows before this
one", an index range scan whatever the size of the log, where an offset would read and
skip every earlier row. Each filter has an index ending with ``chain_seq``.
"""

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import Connection, Select, or_, select
from sqlalchemy.orm import aliased

from engine.domain import ClassifiedAttribute
from webapp.clock import start_of
from webapp.models import AdjustmentLogEntry, Customer, StaffUser, Subscriber
from webapp.query_fields import day_field, text_field
from webapp.scope import Scope

PAGE = 50


class LogFilterSchema(Schema):
    """The browser's filters, from the query string: every one optional."""

    class Meta:
        unknown = EXCLUDE

    customer = text_field(64)
    service_number = text_field(64)
    attribute = fields.String(load_default=None, validate=validate.OneOf(
        [attribute.value for attribute in ClassifiedAttribute]))
    old_value = text_field(64)
    new_value = text_field(64)
    rule_id = text_field(64)
    ruleset = text_field(64)
    version = fields.Integer(load_default=None, strict=False,
                             validate=validate.Range(min=1, max=2**31 - 1))
    #: ``system`` (every run), or a staff member's username.
    actor = text_field(64)
    run = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    date_from = day_field()
    date_to = day_field()
    before = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**62))


@dataclass(frozen=True)
class LogRow:
    id: int
    seq: int
    logged_at: datetime
    subject: str
    customer_code: str | None
    service_number: str | None
    attribute: str
    old_value: str | None
    new_value: str | None
    actor: str
    why: str
    facts: dict[str, Any] | None


def _given(raw: dict[str, str]) -> dict[str, str]:
    return {key: value.strip() for key, value in raw.items() if value and value.strip()}


def parse_filters(raw: dict[str, str]) -> dict[str, Any]:
    """The filters of a query string; ``ValidationError`` names each bad field."""
    return LogFilterSchema().load(_given(raw))


def _query(filters: dict[str, Any], zone: ZoneInfo, scope: Scope | None = None
           ) -> Select[Any]:
    log = AdjustmentLogEntry
    line = aliased(Subscriber)
    owner = aliased(Customer)
    query = (select(log.id, log.chain_seq, log.logged_at, log.customer_id, log.subscriber_id,
                    log.attribute, log.old_value, log.new_value, log.run_id,
                    log.staff_user_id, log.rule_id, log.ruleset_name, log.ruleset_version,
                    log.reason, log.facts, Customer.code.label("customer_code"),
                    line.service_number.label("service_number"),
                    owner.code.label("line_customer_code"),
                    StaffUser.username.label("staff_username"))
             .outerjoin(Customer, Customer.id == log.customer_id)
             .outerjoin(line, line.id == log.subscriber_id)
             .outerjoin(owner, owner.id == line.customer_id)
             .outerjoin(StaffUser, StaffUser.id == log.staff_user_id))
    equal = {"attribute": log.attribute, "old_value": log.old_value,
             "new_value": log.new_value, "rule_id": log.rule_id,
             "ruleset": log.ruleset_name, "version": log.ruleset_version, "run": log.run_id}
    for name, column in equal.items():
        if filters.get(name) is not None:
            query = query.where(column == filters[name])
    if filters.get("customer"):
        customer = select(Customer.id).where(Customer.code == filters["customer"])
        lines = select(Subscriber.id).where(Subscriber.customer_id.in_(customer))
        query = query.where(or_(log.customer_id.in_(customer), log.subscriber_id.in_(lines)))
    if filters.get("service_number"):
        query = query.where(log.subscriber_id.in_(select(Subscriber.id).where(
            Subscriber.service_number == filters["service_number"])))
    actor = filters.get("actor")
    if actor == "system":
        query = query.where(log.run_id.is_not(None))
    elif actor:
        query = query.where(log.staff_user_id.in_(
            select(StaffUser.id).where(StaffUser.username == actor)))
    if scope is not None and not scope.whole_province:
        # Rows of the customers in scope and of their lines.
        customers = select(Customer.id).where(scope.customers()).correlate(None)
        query = query.where(or_(log.customer_id.in_(customers), log.subscriber_id.in_(
            select(Subscriber.id).where(Subscriber.customer_id.in_(customers)))))
    if filters.get("date_from"):
        query = query.where(log.logged_at >= start_of(filters["date_from"], zone))
    if filters.get("date_to"):
        query = query.where(log.logged_at < start_of(filters["date_to"] + timedelta(days=1),
                                                      zone))
    return query.order_by(log.chain_seq.desc())


def page(conn: Connection, filters: dict[str, Any], zone: ZoneInfo, size: int = PAGE,
         scope: Scope | None = None) -> tuple[list[LogRow], int | None]:
    """A page of rows, newest first, and the key of the next page (None: the last);
    only the rows of customers in ``scope`` (and of their lines), when given."""
    query = _query(filters, zone, scope)
    if filters.get("before"):
        query = query.where(AdjustmentLogEntry.chain_seq < filters["before"])
    rows = [_row(row) for row in conn.execute(query.limit(size + 1))]
    return rows[:size], rows[size - 1].seq if len(rows) > size else None


def export_csv(conn: Connection, filters: dict[str, Any], zone: ZoneInfo,
               batch: int = 2000) -> Iterator[str]:
    """Every row the filters select, as CSV text in pieces, read from a server-side
    cursor: the export's memory does not grow with the log."""
    yield "\ufeff"  # Excel reads UTF-8 (Chinese names) only with a byte-order mark
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["seq", "logged_at", "customer", "service_number", "attribute",
                     "old_value", "new_value", "actor", "why", "facts"])
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(
        _query(filters, zone))
    for partition in result.partitions():
        for raw in partition:
            row = _row(raw)
            writer.writerow([row.seq, row.logged_at.astimezone(zone).isoformat(),
                             row.customer_code or "", row.service_number or "",
                             row.attribute, row.old_value or "", row.new_value or "",
                             row.actor, row.why,
                             json.dumps(row.facts, ensure_ascii=False) if row.facts else ""])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _row(entry: Any) -> LogRow:
    if entry.run_id is not None:
        actor = f"system (run #{entry.run_id})"
        rule = "default" if entry.rule_id == "default" else f"rule {entry.rule_id}"
        why = f"{rule} of {entry.ruleset_name} v{entry.ruleset_version}" \
            if entry.ruleset_name else (entry.reason or "")
    else:
        actor = entry.staff_username or f"staff #{entry.staff_user_id}"
        why = entry.reason or ""
    logged_at = entry.logged_at if entry.logged_at.tzinfo else \
        entry.logged_at.replace(tzinfo=ZoneInfo("UTC"))
    return LogRow(entry.id, entry.chain_seq, logged_at,
                  "customer" if entry.customer_id is not None else "line",
                  entry.customer_code or entry.line_customer_code, entry.service_number,
                  str(entry.attribute), entry.old_value, entry.new_value, actor, why,
                  entry.facts)
