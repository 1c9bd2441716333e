"""Optional filter fields of the pages' and the API's query strings (marshmallow)."""

from datetime import date
from typing import Any

from marshmallow import fields, validate

#: The last day a filter may name (the day after it must still be a date).
LAST_DAY = date(2999, 12, 31)


def text_field(max_length: int) -> fields.String:
    """Optional short text without control characters (PostgreSQL refuses a NUL)."""
    return fields.String(load_default=None, validate=[
        validate.Length(max=max_length),
        validate.Regexp(r"\A[^\x00-\x1f\x7f]*\Z", error="contains a control character")])


def day_field(first: date = date(1900, 1, 1), **options: Any) -> fields.Date:
    """An optional day from ``first`` to :data:`LAST_DAY`."""
    return fields.Date(load_default=None, validate=validate.Range(
        min=first, max=LAST_DAY, error="must be between {min} and {max}"), **options)
