"""The org tree as the reports roll it up: each community's unit at a chosen level, the
communities under a unit, and which of them a person's scope lets a report count.

The tree is small (thousands of units for a province of millions of lines): it is read
whole, once per page, and the summaries' per-community rows are rolled up here.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from engine.domain import OrgKind
from webapp.models import OrgUnit
from webapp.scope import Scope

#: The levels a report may group by, from the top.
LEVELS = (OrgKind.CITY, OrgKind.CENTRE, OrgKind.DEPARTMENT, OrgKind.AREA, OrgKind.COMMUNITY)


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: OrgKind
    channel: str | None
    parent: str | None
    #: An unassigned community (it hangs under its city, below no centre or department).
    unassigned: bool


class OrgTree:
    """Every org unit, by code."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self.units = {unit.code: unit for unit in units}
        self.children: dict[str | None, list[str]] = {}
        for unit in self.units.values():
            self.children.setdefault(unit.parent, []).append(unit.code)

    @classmethod
    def load(cls, conn: Connection) -> "OrgTree":
        parent = OrgUnit.__table__.alias("parent")
        rows = conn.execute(select(OrgUnit.code, OrgUnit.name, OrgUnit.kind, OrgUnit.channel,
                                   parent.c.code, OrgUnit.unassigned_billing_area_id)
                            .outerjoin(parent, parent.c.id == OrgUnit.parent_id))
        return cls(Unit(code, name, OrgKind(kind), channel and str(channel), parent_code,
                        area is not None)
                   for code, name, kind, channel, parent_code, area in rows)

    def ancestor(self, community: str, level: OrgKind) -> Unit | None:
        """The unit of ``level`` above (or equal to) ``community``; an unassigned
        community below the city level stands for itself (it has no centre, department or
        area). None for a code the tree does not know."""
        unit = self.units.get(community)
        found = unit
        while found is not None and found.kind != level:
            found = self.units.get(found.parent) if found.parent else None
        if found is None and unit is not None and unit.unassigned \
                and LEVELS.index(level) > LEVELS.index(OrgKind.CITY):
            return unit
        return found

    def department(self, community: str) -> Unit | None:
        return self.ancestor(community, OrgKind.DEPARTMENT)

    def communities_under(self, code: str) -> set[str]:
        """The communities of the subtree of ``code`` (a city's unassigned ones too)."""
        found, pending = set(), [code]
        while pending:
            current = pending.pop()
            unit = self.units[current]
            if unit.kind == OrgKind.COMMUNITY:
                found.add(current)
            pending.extend(self.children.get(current, ()))
        return found

    def path(self, code: str) -> list[Unit]:
        """The units from the top of the tree down to ``code``."""
        units = []
        unit = self.units.get(code)
        while unit is not None:
            units.append(unit)
            unit = self.units.get(unit.parent) if unit.parent else None
        return units[::-1]

    def counted(self, scope: Scope, unit: str | None) -> frozenset[str] | None:
        """The communities a report counts: those of ``scope``, under ``unit`` when one
        is chosen (None: every community, the whole province)."""
        if unit is None:
            return scope.communities
        under = self.communities_under(unit)
        if scope.communities is not None:
            under &= scope.communities
        return frozenset(under)


def below(level: OrgKind) -> OrgKind | None:
    """The level a row of ``level`` drills down to (None: communities are the bottom)."""
    index = LEVELS.index(level)
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


def within(column: object, communities: frozenset[str] | None) -> list[object]:
    """WHERE conditions limiting a summary's ``community`` column to ``communities``."""
    if communities is None:
        return []
    return [column.in_(sorted(communities))]  # type: ignore[attr-defined]
