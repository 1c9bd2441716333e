"""Finding junction boxes and number segments: filters, keyset pages (by box code, by
segment start) and the number of lines on each mapping, in a person's org scope (a
manager sees the mappings whose community is in their scope)."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Select, and_, func, select

from webapp.models import BillingArea, JunctionBox, NumberSegment, OrgUnit, Subscriber
from webapp.scope import Scope

PAGE = 50


class Kind(StrEnum):
    """What a mapping maps: a junction box or a number segment."""

    BOX = "box"
    SEGMENT = "segment"


@dataclass(frozen=True)
class Filters:
    #: Box code prefix (boxes only).
    code: str = ""
    #: A service number the segment holds (segments only).
    number: str = ""
    community: str = ""
    area: str = ""


@dataclass(frozen=True)
class Mapping:
    """One box or segment as the pages show it."""

    #: Box code, or segment start.
    key: str
    #: Segment end (None for a box).
    end: str | None
    area: str
    community: str
    community_name: str
    #: Lines on the box, or numbered inside the segment.
    lines: int


def box_lines(code: str) -> Select:
    return select(Subscriber.id).where(Subscriber.junction_box_code == code)


def segment_lines(start: str, end: str) -> Select:
    number = Subscriber.service_number
    return select(Subscriber.id).where(func.length(number) == len(start),
                                       number.between(start, end))


def _lines_on_box() -> Select:
    return (select(func.count()).where(Subscriber.junction_box_code == JunctionBox.code)
            .scalar_subquery())


def _lines_in_segment() -> Select:
    number = Subscriber.service_number
    return (select(func.count())
            .where(func.length(number) == func.length(NumberSegment.range_start),
                   number.between(NumberSegment.range_start, NumberSegment.range_end))
            .scalar_subquery())


def _mappings(kind: Kind) -> tuple[Select, Any]:
    """The query of mappings of ``kind`` as :class:`Mapping` rows, and its key column."""
    table = JunctionBox if kind is Kind.BOX else NumberSegment
    key = JunctionBox.code if kind is Kind.BOX else NumberSegment.range_start
    end = None if kind is Kind.BOX else NumberSegment.range_end
    lines = _lines_on_box() if kind is Kind.BOX else _lines_in_segment()
    return (select(key, end, BillingArea.code, OrgUnit.code, OrgUnit.name, lines)
            .select_from(table)
            .join(BillingArea, BillingArea.id == table.billing_area_id)
            .join(OrgUnit, OrgUnit.id == table.community_id)), key


def search(conn: Connection, scope: Scope, kind: Kind, filters: Filters, *,
           after: str | None = None, size: int = PAGE) -> tuple[list[Mapping], str | None]:
    """A page of mappings in key order after ``after``, and the key to ask for the next
    page (None: this is the last)."""
    query, key = _mappings(kind)
    query = query.order_by(key).limit(size + 1)
    if kind is Kind.BOX and filters.code:
        query = query.where(JunctionBox.code.startswith(filters.code, autoescape=True))
    if kind is Kind.SEGMENT and filters.number:
        query = query.where(and_(
            func.length(NumberSegment.range_start) == len(filters.number),
            NumberSegment.range_start <= filters.number,
            NumberSegment.range_end >= filters.number))
    if filters.community:
        query = query.where(OrgUnit.code == filters.community)
    if filters.area:
        query = query.where(BillingArea.code == filters.area)
    if not scope.whole_province:
        query = query.where(OrgUnit.code.in_(sorted(scope.communities or ())))
    if after is not None:
        query = query.where(key > after)
    rows = [Mapping(*row) for row in conn.execute(query)]
    return rows[:size], rows[size - 1].key if len(rows) > size else None


def find(conn: Connection, scope: Scope, kind: Kind, key: str) -> Mapping | None:
    """The box with code ``key`` or the segment starting at ``key``, if in the scope."""
    query, column = _mappings(kind)
    row = conn.execute(query.where(column == key)).first()
    if row is None or row[3] not in scope:
        return None
    return Mapping(*row)
