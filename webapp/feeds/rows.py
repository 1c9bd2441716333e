"""Row schemas: the marshmallow base class and its fast loader.

``FeedSchema.load`` is the authority on what a row means and what is wrong with it.
``RowLoader`` gives the same answer for a valid row about five times faster by calling
each field's ``parse`` directly; as soon as anything is doubtful it hands the row to
``FeedSchema.load``, which then reports every problem of the row.
"""

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, validates_schema

from webapp.feeds.fields import FeedField


class FeedSchema(Schema):
    """Base of the row schemas; subclasses declare ``FeedField``s only."""

    class Meta:
        unknown = RAISE

    def check_row(self, row: dict[str, Any]) -> None:
        """Cross-field checks of a converted row; raise ``ValidationError``."""

    @validates_schema
    def _check_row(self, data: dict[str, Any], **_kwargs: Any) -> None:
        self.check_row(data)

    @classmethod
    def feed_fields(cls) -> dict[str, FeedField]:
        """Fields by attribute name (the staged column name)."""
        declared = cls._declared_fields
        return {name: field for name, field in declared.items() if isinstance(field, FeedField)}

    @classmethod
    def columns(cls) -> list[str]:
        """The CSV header names, in declaration order."""
        return [field.data_key or name for name, field in cls.feed_fields().items()]

    @classmethod
    def header_aliases(cls) -> dict[str, str]:
        """Alternative header names (lower case) → the column they stand for."""
        return {alias.lower(): field.data_key or name
                for name, field in cls.feed_fields().items() for alias in field.aliases}


class _DoubtfulError(Exception):
    """The fast path cannot vouch for the row; marshmallow decides."""


class RowLoader:
    """Loads rows (CSV column → stripped non-empty text) into staged values."""

    def __init__(self, schema_cls: type[FeedSchema]) -> None:
        self.schema = schema_cls()
        self.plan = [
            (field.data_key or name, name, field.parse, field.required, field.load_default)
            for name, field in schema_cls.feed_fields().items()
        ]
        if len(self.plan) != len(self.schema.load_fields):
            raise TypeError(f"{schema_cls.__name__} declares fields that are not FeedFields")

    def load(self, raw: dict[str, str]) -> dict[str, Any]:
        """Return the converted row or raise ``ValidationError`` with every problem."""
        try:
            return self._fast(raw)
        except (_DoubtfulError, ValueError, ValidationError):
            return self.schema.load(raw)

    def _fast(self, raw: dict[str, str]) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for column, name, parse, required, default in self.plan:
            text = raw.get(column)
            if text is not None:
                row[name] = parse(text)
            elif required:
                raise _DoubtfulError
            else:
                row[name] = default
        self.schema.check_row(row)
        return row
