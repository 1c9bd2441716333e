"""Report 1: customers and lines by org unit × statistical attribute, or × service tier.

Read from ``report_population`` (per community), rolled up to the chosen level. A
customer counts once, in its home community (the lowest code among its lines'
communities); a line in its own community, with its customer's attribute and tier.
"""

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Connection, select

from engine.domain import OrgKind
from webapp.models import ReportPopulation
from webapp.reports.orgtree import OrgTree, Unit, within

#: What a breakdown may be by: the summary's columns.
DIMENSIONS = ("statistical_attribute", "service_tier")
MEASURES = ("customers", "subscribers")


@dataclass(frozen=True)
class Breakdown:
    """Counts per unit (at ``level``) and value of the dimension ("" = not decided)."""

    level: OrgKind
    units: list[Unit]
    values: list[str]
    counts: Counter[tuple[str, str]]

    def total(self, unit: str) -> int:
        return sum(self.counts[unit, value] for value in self.values)

    def of_value(self, value: str) -> int:
        return sum(self.counts[unit.code, value] for unit in self.units)


def breakdown(conn: Connection, tree: OrgTree, communities: frozenset[str] | None,
              level: OrgKind, dimension: str, measure: str) -> Breakdown:
    """``measure`` per unit of ``level`` and value of ``dimension``, counting only the
    ``communities`` (None: all)."""
    summary = ReportPopulation.__table__
    rows = conn.execute(select(summary.c.community, summary.c[dimension], summary.c[measure])
                        .where(*within(summary.c.community, communities)))
    counts: Counter[tuple[str, str]] = Counter()
    units: dict[str, Unit] = {}
    for community, value, count in rows:
        if not count:
            continue
        unit = tree.ancestor(community, level) or _stray(community)
        units[unit.code] = unit
        counts[unit.code, value] += count
    values = sorted({value for _, value in counts}, key=lambda value: (value == "", value))
    return Breakdown(level, sorted(units.values(), key=lambda unit: unit.code), values, counts)


def _stray(community: str) -> Unit:
    """A community the org tree no longer has (its lines still name it): its own row."""
    return Unit(community, community, OrgKind.COMMUNITY, None, None, False)
