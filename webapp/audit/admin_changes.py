"""Writing the admin change log (:class:`webapp.models.AdminChange`).

Every service that changes reference data or a staff account calls :func:`record` in
the same transaction as the change itself, so a change and its log row are stored
together or not at all.
"""

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Connection, insert

from webapp.models import AdminChange

#: Fields never written to the log, whatever a caller passes.
SECRET_FIELDS = frozenset({"password", "password_hash", "token_hash"})


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: enums by value, dates and decimals as text."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields whose value differs between ``old`` and ``new`` (same keys), as the
    two sides of a log row."""
    keys = [key for key in new if _plain(old.get(key)) != _plain(new[key])]
    return ({key: _plain(old.get(key)) for key in keys},
            {key: _plain(new[key]) for key in keys})


def record(conn: Connection, *, staff_id: int | None, subject: str, key: str, action: str,
           now: datetime, old: Mapping[str, Any] | None = None,
           new: Mapping[str, Any] | None = None) -> None:
    """Append one row: ``staff_id`` did ``action`` to ``subject`` ``key`` at ``now``."""
    def clean(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if values is None:
            return None
        return {name: _plain(value) for name, value in values.items()
                if name not in SECRET_FIELDS}

    conn.execute(insert(AdminChange).values(
        changed_at=now, staff_user_id=staff_id, subject=subject, subject_key=key[:100],
        action=action, old=clean(old), new=clean(new)))
