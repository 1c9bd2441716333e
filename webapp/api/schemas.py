"""Schemas several endpoints share: page sizes, and the blank-means-absent rule of query
strings that the web UI's filters follow too."""

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, fields, pre_load, validate

from webapp.query_fields import day_field

#: Largest page an API caller may ask for.
MAX_PAGE = 500


def evaluation_date() -> fields.Date:
    """The date rules are evaluated as of; the operator's today when not given (from
    1900 to 2999: a relative date of up to 99,999 days stays a real date)."""
    return day_field(metadata={"description": "evaluation date (default: the operator's "
                                              "today)"})


def limit_field(default: int) -> fields.Integer:
    return fields.Integer(load_default=default, validate=validate.Range(min=1, max=MAX_PAGE),
                          metadata={"description": f"rows per page (1-{MAX_PAGE})"})


class QuerySchema(Schema):
    """Filters from a query string: blank values are no filter (as in the web UI)."""

    @pre_load
    def _drop_blank(self, data: Any, **_kwargs: Any) -> Any:
        return {key: value.strip() for key, value in data.items()
                if isinstance(value, str) and value.strip()}


class Timestamp(fields.DateTime):
    """A stored time (UTC; SQLite returns it naive) as ISO 8601 with its offset."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any,
                   **kwargs: Any) -> str | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)
