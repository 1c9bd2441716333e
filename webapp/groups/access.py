"""Who may keep which groups and add which customers.

A channel manager with an org unit sees and changes only the groups kept by a unit of
their subtree, and adds or removes only customers of their org scope
(:func:`webapp.scope.scope_of`). Everyone else allowed on the pages (analysts, admins,
channel managers without a unit) works province-wide.
"""

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Connection, select, true

from engine.domain import StaffRole
from webapp.models import CustomerGroup, OrgUnit, StaffUser
from webapp.scope import Scope, scope_of


class GroupRefusedError(ValueError):
    """A change refused as a whole; ``message`` is meant for the person (translated)."""

    def __init__(self, message: Any, status: int = 409) -> None:
        super().__init__(str(message))
        self.message, self.status = message, status


@dataclass(frozen=True)
class GroupAccess:
    """The org units whose groups a person keeps (None: every group) and the customers
    they may add (their org scope)."""

    staff_id: int
    units: frozenset[int] | None
    scope: Scope

    def groups(self) -> ColumnElement[bool]:
        """Condition on ``customer_group``: a group this person keeps."""
        if self.units is None:
            return true()
        return CustomerGroup.org_unit_id.in_(sorted(self.units))

    def check_keeper(self, org_unit_id: int | None) -> None:
        """Refuse a keeping unit outside the person's subtree (province-wide included)."""
        if self.units is not None and org_unit_id not in self.units:
            raise GroupRefusedError(_l("You keep only groups of a unit of your own org "
                                       "subtree."), 403)


def access_of(conn: Connection, staff: StaffUser) -> GroupAccess:
    """What ``staff`` may do with groups."""
    if staff.role != StaffRole.CHANNEL_MANAGER or staff.org_unit_id is None:
        return GroupAccess(staff.id, None, Scope(None))
    return GroupAccess(staff.id, subtree(conn, staff.org_unit_id), scope_of(conn, staff))


def subtree(conn: Connection, unit_id: int) -> frozenset[int]:
    """Ids of the unit and every unit under it (the org tree is small: read it whole)."""
    children: dict[int | None, list[int]] = {}
    for unit, parent in conn.execute(select(OrgUnit.id, OrgUnit.parent_id)):
        children.setdefault(parent, []).append(unit)
    found, pending = set(), [unit_id]
    while pending:
        unit = pending.pop()
        found.add(unit)
        pending.extend(children.get(unit, ()))
    return frozenset(found)
