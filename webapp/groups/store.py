"""Customer groups: create, rename, change type or keeping unit, delete, list.

Each change is one transaction with its admin-change-log row (the caller commits).
Changing a group's type or deleting it changes the ``group_type`` / ``in_group`` facts of
its members, so they are queued for the next run (:func:`webapp.models.changes.mark_changed`).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection, delete, func, insert, select, update

from webapp.audit.admin_changes import changed_fields, record
from webapp.groups.access import GroupAccess, GroupRefusedError
from webapp.groups.types import clean_name
from webapp.models import CustomerGroup, GroupType, OrgUnit, customer_group_member
from webapp.models.changes import mark_changed

SUBJECT = "customer_group"
PAGE = 100
MEMBER = customer_group_member.c


@dataclass(frozen=True)
class GroupRow:
    id: int
    name: str
    type_id: int
    type_code: str
    type_name: str
    #: The keeping unit (None: province-wide).
    unit_code: str | None
    unit_name: str | None
    created_at: datetime
    members: int


def _query() -> Any:
    counts = (select(MEMBER.group_id, func.count().label("members"))
              .group_by(MEMBER.group_id).subquery())
    return (select(CustomerGroup.id, CustomerGroup.name, GroupType.id, GroupType.code,
                   GroupType.name, OrgUnit.code, OrgUnit.name, CustomerGroup.created_at,
                   func.coalesce(counts.c.members, 0))
            .join(GroupType, GroupType.id == CustomerGroup.group_type_id)
            .outerjoin(OrgUnit, OrgUnit.id == CustomerGroup.org_unit_id)
            .outerjoin(counts, counts.c.group_id == CustomerGroup.id))


def list_groups(conn: Connection, access: GroupAccess, *, type_id: int | None = None,
                name: str | None = None, unit: str | None = None, after: str | None = None,
                size: int = PAGE) -> tuple[list[GroupRow], str | None]:
    """A page of the groups ``access`` keeps, by name, filtered by type, a part of the
    name and the keeping unit's code; and the key of the next page (None: the last)."""
    query = _query().where(access.groups()).order_by(CustomerGroup.name).limit(size + 1)
    if type_id is not None:
        query = query.where(CustomerGroup.group_type_id == type_id)
    if name:
        query = query.where(func.lower(CustomerGroup.name).contains(name.lower(),
                                                                    autoescape=True))
    if unit:
        query = query.where(OrgUnit.code == unit)
    if after is not None:
        query = query.where(CustomerGroup.name > after)
    rows = [GroupRow(*row) for row in conn.execute(query)]
    return rows[:size], rows[size - 1].name if len(rows) > size else None


def get_group(conn: Connection, access: GroupAccess, group_id: int) -> GroupRow:
    """The group, if ``access`` keeps it (else 404: whether it exists is not said)."""
    row = conn.execute(_query().where(CustomerGroup.id == group_id, access.groups())
                       ).one_or_none()
    if row is None:
        raise GroupRefusedError(_l("No such group."), 404)
    return GroupRow(*row)


def _unit_id(conn: Connection, access: GroupAccess, code: str | None) -> int | None:
    code = (code or "").strip()
    unit_id = None
    if code:
        unit_id = conn.scalar(select(OrgUnit.id).where(OrgUnit.code == code,
                                                       OrgUnit.retired.is_(False)))
        if unit_id is None:
            raise GroupRefusedError(_l("No org unit %(code)s (or it is retired).",
                                       code=code[:40]), 400)
    access.check_keeper(unit_id)
    return unit_id


def _type_code(conn: Connection, type_id: int) -> str:
    code = conn.scalar(select(GroupType.code).where(GroupType.id == type_id))
    if code is None:
        raise GroupRefusedError(_l("No such group type."), 400)
    return code


def _check_name_free(conn: Connection, name: str, group_id: int | None = None) -> None:
    query = select(CustomerGroup.id).where(CustomerGroup.name == name)
    if group_id is not None:
        query = query.where(CustomerGroup.id != group_id)
    if conn.scalar(query) is not None:
        raise GroupRefusedError(_l("A group named %(name)s exists already.", name=name))


def create_group(conn: Connection, access: GroupAccess, name: str, type_id: int,
                 unit: str | None, now: datetime) -> int:
    """A new, empty group; its id."""
    name = clean_name(name)
    type_code = _type_code(conn, type_id)
    unit_id = _unit_id(conn, access, unit)
    _check_name_free(conn, name)
    group_id = conn.execute(insert(CustomerGroup).values(
        name=name, group_type_id=type_id, org_unit_id=unit_id, created_at=now)
        .returning(CustomerGroup.id)).scalar_one()
    record(conn, staff_id=access.staff_id, subject=SUBJECT, key=str(group_id),
           action="created", now=now,
           new={"name": name, "group_type": type_code, "org_unit": (unit or "").strip() or None})
    return group_id


def update_group(conn: Connection, access: GroupAccess, group_id: int, name: str,
                 type_id: int, unit: str | None, now: datetime) -> bool:
    """Rename the group, change its type or keeping unit; whether anything changed.
    A new type changes the members' ``group_type`` fact: they are queued."""
    group = get_group(conn, access, group_id)
    name = clean_name(name)
    type_code = _type_code(conn, type_id)
    unit_id = _unit_id(conn, access, unit)
    _check_name_free(conn, name, group_id)
    old, new = changed_fields(
        {"name": group.name, "group_type": group.type_code, "org_unit": group.unit_code},
        {"name": name, "group_type": type_code,
         "org_unit": (unit or "").strip() or None})
    if not new:
        return False
    conn.execute(update(CustomerGroup).where(CustomerGroup.id == group_id).values(
        name=name, group_type_id=type_id, org_unit_id=unit_id))
    if "group_type" in new:
        mark_changed(conn, "customer", select(MEMBER.customer_id)
                     .where(MEMBER.group_id == group_id), now, distinct=False)
    record(conn, staff_id=access.staff_id, subject=SUBJECT, key=str(group_id),
           action="updated", now=now, old={**old, "name": group.name}, new=new)
    return True


def delete_group(conn: Connection, access: GroupAccess, group_id: int,
                 now: datetime) -> GroupRow:
    """Delete the group and its memberships (the customers stay); the group as it was.
    Its members lose the group's facts: they are queued."""
    group = get_group(conn, access, group_id)
    mark_changed(conn, "customer", select(MEMBER.customer_id)
                 .where(MEMBER.group_id == group_id), now, distinct=False)
    conn.execute(delete(customer_group_member).where(MEMBER.group_id == group_id))
    conn.execute(delete(CustomerGroup).where(CustomerGroup.id == group_id))
    record(conn, staff_id=access.staff_id, subject=SUBJECT, key=str(group_id),
           action="deleted", now=now,
           old={"name": group.name, "group_type": group.type_code,
                "org_unit": group.unit_code, "members": group.members})
    return group
