"""Group types: an editable list (building, residential estate, industrial park, ...).

A type's code is what rules compare (``group_type = industrial_park``), so it never
changes once created; its name does. A type still used by a group cannot be deleted.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection, Row, delete, func, insert, select, update

from webapp.audit.admin_changes import record
from webapp.groups.access import GroupRefusedError
from webapp.models import CustomerGroup, GroupType

#: A code rules can compare: lower-case letters, digits and _, never the list separator.
CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_NAME = 100
SUBJECT = "group_type"


@dataclass(frozen=True)
class TypeRow:
    id: int
    code: str
    name: str
    groups: int


def clean_name(raw: str) -> str:
    """A name as stored: NFC, trimmed, one line, 1 to :data:`MAX_NAME` characters."""
    name = unicodedata.normalize("NFC", raw or "").strip()
    if not name:
        raise GroupRefusedError(_l("A group or group type needs a name."), 400)
    if len(name) > MAX_NAME:
        raise GroupRefusedError(_l("A group or group type name has at most %(max)s "
                                   "characters.", max=MAX_NAME), 400)
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in name):
        raise GroupRefusedError(_l("A group or group type name cannot hold control or "
                                   "invisible characters."), 400)
    return name


def group_types(conn: Connection) -> list[TypeRow]:
    """Every type by code, with the number of groups of each."""
    used = (select(CustomerGroup.group_type_id, func.count().label("groups"))
            .group_by(CustomerGroup.group_type_id).subquery())
    return [TypeRow(*row) for row in conn.execute(
        select(GroupType.id, GroupType.code, GroupType.name,
               func.coalesce(used.c.groups, 0))
        .outerjoin(used, used.c.group_type_id == GroupType.id).order_by(GroupType.code))]


def add_type(conn: Connection, staff_id: int, code: str, name: str, now: datetime) -> int:
    """A new type; its id."""
    code = (code or "").strip()
    if not CODE.match(code):
        raise GroupRefusedError(_l("The code must start with a lower-case letter and hold "
                                   "only lower-case letters, digits and _ (at most 32)."), 400)
    name = clean_name(name)
    if conn.scalar(select(GroupType.id).where(GroupType.code == code)) is not None:
        raise GroupRefusedError(_l("A group type %(code)s exists already.", code=code))
    type_id = conn.execute(insert(GroupType).values(code=code, name=name)
                           .returning(GroupType.id)).scalar_one()
    record(conn, staff_id=staff_id, subject=SUBJECT, key=code, action="created", now=now,
           new={"code": code, "name": name})
    return type_id


def rename_type(conn: Connection, staff_id: int, type_id: int, name: str,
                now: datetime) -> None:
    found = _type(conn, type_id)
    name = clean_name(name)
    if name == found.name:
        return
    conn.execute(update(GroupType).where(GroupType.id == type_id).values(name=name))
    record(conn, staff_id=staff_id, subject=SUBJECT, key=found.code, action="renamed",
           now=now, old={"name": found.name}, new={"name": name})


def delete_type(conn: Connection, staff_id: int, type_id: int, now: datetime) -> str:
    """Delete an unused type; its code. Refused, saying how many, while groups use it."""
    found = _type(conn, type_id)
    used = conn.scalar(select(func.count()).select_from(CustomerGroup)
                       .where(CustomerGroup.group_type_id == type_id))
    if used:
        raise GroupRefusedError(_l("%(code)s is the type of %(count)s groups: give them "
                                   "another type or delete them first.",
                                   code=found.code, count=used))
    conn.execute(delete(GroupType).where(GroupType.id == type_id))
    record(conn, staff_id=staff_id, subject=SUBJECT, key=found.code, action="deleted",
           now=now, old={"code": found.code, "name": found.name})
    return found.code


def _type(conn: Connection, type_id: int) -> Row[Any]:
    row = conn.execute(select(GroupType.id, GroupType.code, GroupType.name)
                       .where(GroupType.id == type_id)).one_or_none()
    if row is None:
        raise GroupRefusedError(_l("No such group type."), 404)
    return row
