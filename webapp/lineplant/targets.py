"""Which community a junction box or number segment may be mapped to, and why not.

A mapping must point at an active community (not a department, not a retired unit) of
the box's or segment's own billing area: a community under the area's city branch, or
the area's own unassigned community. A channel manager changes only mappings whose
current and new community are both in their org scope (:mod:`webapp.scope`).
"""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Connection, select

from engine.domain import OrgKind
from webapp.models import BillingArea
from webapp.orgtree.tree import Unit, load_tree
from webapp.scope import Scope


@dataclass(frozen=True)
class Area:
    id: int
    code: str
    city_id: int


class OrgIndex:
    """The org tree and billing areas held in memory (both are small)."""

    def __init__(self, conn: Connection) -> None:
        self.by_id = load_tree(conn).units
        self.by_code = {unit.code: unit for unit in self.by_id.values()}
        self.areas = {row.id: Area(*row) for row in conn.execute(
            select(BillingArea.id, BillingArea.code, BillingArea.city_id))}

    def city_of(self, unit: Unit) -> int | None:
        """The id of the city branch above ``unit`` (None: none, a broken tree)."""
        seen: set[int] = set()
        current: Unit | None = unit
        while current is not None and current.id not in seen:
            if current.kind == OrgKind.CITY:
                return current.id
            seen.add(current.id)
            current = self.by_id.get(current.parent_id) if current.parent_id else None
        return None


def target_problem(index: OrgIndex, scope: Scope, area_id: int, current: str,
                   new: str) -> str | None:
    """Why ``new`` cannot replace ``current`` as the community of a mapping of billing
    area ``area_id`` (None: it can)."""
    unit = index.by_code.get(new)
    area = index.areas[area_id]
    if current not in scope:
        return _("the current community %(code)s is outside your org scope", code=current)
    if unit is None:
        return _("unknown community %(code)s", code=new)
    if unit.kind != OrgKind.COMMUNITY:
        return _("%(code)s is not a community (it is a %(kind)s)", code=new,
                 kind=unit.kind.value)
    if unit.retired:
        return _("community %(code)s is retired", code=new)
    if unit.unassigned_area_id is not None:
        if unit.unassigned_area_id != area_id:
            return _("%(code)s is the unassigned community of another billing area than "
                     "%(area)s", code=new, area=area.code)
    elif index.city_of(unit) != area.city_id:
        return _("community %(code)s is not in the city of billing area %(area)s",
                 code=new, area=area.code)
    if new not in scope:
        return _("community %(code)s is outside your org scope", code=new)
    return None


def choices_for(index: OrgIndex, scope: Scope, area_code: str) -> list[tuple[str, str]]:
    """(code, name) of the communities a mapping of billing area ``area_code`` may be
    given in a form: active communities of the area's city in ``scope``, by code (the
    area's own unassigned community is left to files: mapping a box there is rare)."""
    area = next((area for area in index.areas.values() if area.code == area_code), None)
    if area is None:
        return []
    return sorted((unit.code, unit.name) for unit in index.by_code.values()
                  if unit.kind == OrgKind.COMMUNITY and not unit.retired
                  and unit.unassigned_area_id is None and unit.code in scope
                  and index.city_of(unit) == area.city_id)
