"""Reading the admin change log: filters, newest first, keyset pages on ``id``.

A page is "the rows before this id": with a filter on the subject (and key) or the
person, an index range scan (``ix_admin_change_subject_id``, ``ix_admin_change_staff_id``),
whatever the size of the log.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import Connection, select

from webapp.clock import start_of
from webapp.models import AdminChange, StaffUser
from webapp.query_fields import day_field, text_field

PAGE = 50
#: Kinds of subject the admin pages write (``AdminChange.subject``).
SUBJECTS = ("org_unit", "billing_area", "staff_user", "junction_box", "number_segment",
            "group_type", "customer_group")


class ChangeFilterSchema(Schema):
    """The page's filters, from the query string; every one optional."""

    class Meta:
        unknown = EXCLUDE

    subject = fields.String(load_default=None, validate=validate.OneOf(SUBJECTS))
    #: The subject's key exactly: a unit code, a username, a box code.
    key = text_field(100)
    #: Who made the change: a username.
    person = text_field(100)
    date_from = day_field()
    date_to = day_field()
    before = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**62))


@dataclass(frozen=True)
class ChangeRow:
    id: int
    changed_at: datetime
    #: Username of who made it; None: the command line or a feed.
    person: str | None
    subject: str
    key: str
    action: str
    #: (field, old, new) of every field the row records.
    fields: list[tuple[str, Any, Any]]


def parse_filters(raw: dict[str, str]) -> dict[str, Any]:
    """The filters of a query string; ``ValidationError`` names each bad field."""
    given = {name: value.strip() for name, value in raw.items() if value and value.strip()}
    return ChangeFilterSchema().load(given)


def page(conn: Connection, filters: dict[str, Any], zone: ZoneInfo, size: int = PAGE
         ) -> tuple[list[ChangeRow], int | None]:
    """A page of rows, newest first, and the key of the next page (None: the last)."""
    log = AdminChange
    query = (select(log.id, log.changed_at, log.subject, log.subject_key, log.action,
                    log.old, log.new, StaffUser.username)
             .outerjoin(StaffUser, StaffUser.id == log.staff_user_id)
             .order_by(log.id.desc()).limit(size + 1))
    if filters.get("subject"):
        query = query.where(log.subject == filters["subject"])
    if filters.get("key"):
        query = query.where(log.subject_key == filters["key"])
    if filters.get("person"):
        query = query.where(log.staff_user_id.in_(
            select(StaffUser.id).where(StaffUser.username == filters["person"])))
    if filters.get("date_from"):
        query = query.where(log.changed_at >= start_of(filters["date_from"], zone))
    if filters.get("date_to"):
        query = query.where(log.changed_at < start_of(filters["date_to"] + timedelta(days=1),
                                                       zone))
    if filters.get("before"):
        query = query.where(log.id < filters["before"])
    rows = [_row(row) for row in conn.execute(query)]
    return rows[:size], rows[size - 1].id if len(rows) > size else None


def _row(row: Any) -> ChangeRow:
    old, new = row.old or {}, row.new or {}
    names = list(dict.fromkeys([*old, *new]))
    return ChangeRow(row.id, row.changed_at, row.username, row.subject, row.subject_key,
                     row.action, [(name, old.get(name), new.get(name)) for name in names])
