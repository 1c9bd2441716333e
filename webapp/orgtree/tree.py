"""The organisation tree on the admin pages: read it with its customer counts, add,
rename, move, retire and delete units, list and add billing areas.

The rules the org-units feed enforces hold here too (``engine.domain.PARENT_KIND``,
channels of the channel kinds, ``UA-`` codes reserved). A unit's code never changes:
feeds, line plant, decisions and both logs refer to it. The unassigned communities are
the billing areas' own (``webapp.feeds.org_tree.create_unassigned_communities``): no
one changes them by hand. Rules read department and community codes derived through
the whole tree (a city-level community takes its city's first centre, a department is
found by centre and channel), so a change of the tree's shape queues every customer,
as the org-units import does. Each function works in the caller's transaction and
writes its admin change log row there; a refusal raises :class:`OrgRefusal` before
anything is written.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, func, insert, select, update

from engine.domain import CHANNEL_KINDS, PARENT_KIND, Channel, ClassifiedAttribute, OrgKind
from webapp.audit.admin_changes import record
from webapp.database import db
from webapp.feeds.fields import Code, Text
from webapp.feeds.org_tree import create_unassigned_communities
from webapp.models import (
    AdjustmentLogEntry,
    BillingArea,
    Customer,
    CustomerDecision,
    JunctionBox,
    NumberSegment,
    OrgUnit,
    Subscriber,
    SubscriberDecision,
)
from webapp.models.changes import mark_changed
from webapp.orgtree.refusals import N_, Refusal

#: The same limits as the feed's columns (``webapp.feeds.schemas``).
UNIT_CODE, UNIT_NAME = Code(40), Text(100)
AREA_CODE, AREA_NAME = Code(20), Text(80)
COMMUNITY = ClassifiedAttribute.COMMUNITY


class OrgRefusal(Refusal):
    """A change of the tree refused."""


@dataclass(frozen=True)
class Unit:
    id: int
    code: str
    name: str
    kind: OrgKind
    parent_id: int | None
    channel: Channel | None
    retired: bool
    #: The billing area whose unassigned community this is (None: an ordinary unit).
    unassigned_area_id: int | None

    @property
    def automatic(self) -> bool:
        return self.unassigned_area_id is not None


@dataclass(frozen=True)
class OrgTree:
    """Every unit, by id and by code, and each unit's children in code order (the tree
    is small: thousands of units)."""

    units: dict[int, Unit]
    children: dict[int | None, list[Unit]]

    def by_code(self, code: str) -> Unit | None:
        return next((unit for unit in self.units.values() if unit.code == code), None)

    def ancestors(self, unit: Unit) -> list[Unit]:
        """From the root down to the parent of ``unit``."""
        chain = []
        while unit.parent_id is not None:
            unit = self.units[unit.parent_id]
            chain.append(unit)
        return chain[::-1]

    def subtree(self, unit: Unit) -> list[Unit]:
        """``unit`` and every unit below it."""
        found, pending = [], [unit]
        while pending:
            current = pending.pop()
            found.append(current)
            pending.extend(self.children.get(current.id, ()))
        return found


def load_tree(conn: Connection) -> OrgTree:
    table = OrgUnit.__table__
    units = {row.id: Unit(row.id, row.code, row.name, OrgKind(row.kind), row.parent_id,
                          Channel(row.channel) if row.channel else None, bool(row.retired),
                          row.unassigned_billing_area_id)
             for row in conn.execute(select(table).order_by(table.c.code))}
    children: dict[int | None, list[Unit]] = {}
    for unit in units.values():
        children.setdefault(unit.parent_id, []).append(unit)
    return OrgTree(units, children)


def customer_counts(conn: Connection, roots: Iterable[int] | None = None) -> dict[int, int]:
    """Customers per unit id (units without customers left out): a customer counts under
    a unit when one of its lines is attributed to a community of the unit's subtree.

    One grouped query: a recursive walk pairs each unit (of ``roots``, default every one)
    with the units below it, joined to the lines' community decisions.
    """
    unit = OrgUnit.__table__
    base = select(unit.c.id.label("ancestor_id"), unit.c.id.label("unit_id"),
                  unit.c.code.label("code"))
    if roots is not None:
        base = base.where(unit.c.id.in_(list(roots)))
    walk = base.cte("subtree", recursive=True)
    child = unit.alias("child")
    walk = walk.union_all(select(walk.c.ancestor_id, child.c.id, child.c.code)
                          .where(child.c.parent_id == walk.c.unit_id))
    decision, line = SubscriberDecision.__table__, Subscriber.__table__
    query = (select(walk.c.ancestor_id, func.count(func.distinct(line.c.customer_id)))
             .select_from(walk)
             .join(decision, and_(decision.c.attribute == COMMUNITY,
                                  decision.c.value == walk.c.code))
             .join(line, line.c.id == decision.c.subscriber_id)
             .group_by(walk.c.ancestor_id))
    return {row[0]: row[1] for row in conn.execute(query)}


def checked(field: Any, value: str | None, name: str) -> str:
    """``value`` stripped and converted by a feed field (NFC, length, no control
    characters, a code's characters); OrgRefusal naming ``name`` when it does not fit."""
    text = (value or "").strip()
    if not text:
        raise OrgRefusal(name, N_("%(column)s is required."), column=name)
    try:
        return field.parse(text)
    except ValueError as error:
        raise OrgRefusal(name, N_("%(column)s: %(reason)s"), column=name,
                         reason=str(error)) from error


def _unit(tree: OrgTree, code: str | None, field: str = "code") -> Unit:
    unit = tree.by_code((code or "").strip())
    if unit is None:
        raise OrgRefusal(field, N_("There is no org unit %(code)s."), code=(code or "")[:40])
    return unit


def _not_automatic(unit: Unit) -> None:
    if unit.automatic:
        raise OrgRefusal(None, N_("%(code)s is the unassigned community of a billing area: it "
                                  "is kept automatically and cannot be changed by hand."),
                         code=unit.code)


def _fits(kind: OrgKind, channel: Channel | None, parent: Unit | None) -> None:
    """Refuse ``kind`` with ``channel`` under ``parent`` unless the levels and channels
    allow it (the org-units feed's rules)."""
    expected = PARENT_KIND[kind]
    if expected is None:
        if parent is not None:
            raise OrgRefusal("parent", N_("A province has no parent unit."))
    elif parent is None:
        raise OrgRefusal("parent", N_("A %(kind)s needs a parent unit (a %(expected)s)."),
                         kind=kind.value, expected=expected.value)
    elif parent.kind != expected:
        raise OrgRefusal("parent", N_("%(parent)s is a %(parent_kind)s; a %(kind)s must sit "
                                      "under a %(expected)s."), parent=parent.code,
                         parent_kind=parent.kind.value, kind=kind.value,
                         expected=expected.value)
    elif parent.retired:
        raise OrgRefusal("parent", N_("%(parent)s is retired: nothing can be added under it."),
                         parent=parent.code)
    if kind in CHANNEL_KINDS:
        if channel is None:
            raise OrgRefusal("channel", N_("A %(kind)s needs a channel."), kind=kind.value)
        if parent is not None and parent.channel is not None and parent.channel != channel:
            raise OrgRefusal("channel", N_("The channel is %(channel)s but %(parent)s belongs "
                                           "to %(parent_channel)s."), channel=channel.value,
                             parent=parent.code,
                             parent_channel=parent.channel.value)
    elif channel is not None:
        raise OrgRefusal("channel", N_("A %(kind)s has no channel."), kind=kind.value)


def _reshaped(conn: Connection, now: datetime) -> None:
    """Queue every customer, as the org-units import does when the tree's shape changes:
    department facts are derived through centres across the tree."""
    mark_changed(conn, "customer", select(Customer.id), now, distinct=False)


def _described(tree: OrgTree, unit: Unit) -> dict[str, Any]:
    parent = tree.units.get(unit.parent_id) if unit.parent_id else None
    return {"code": unit.code, "name": unit.name, "kind": unit.kind,
            "parent": parent.code if parent else None, "channel": unit.channel,
            "retired": unit.retired}


def add_unit(conn: Connection, *, code: str, name: str, kind: str, parent_code: str | None,
             channel: str | None, staff_id: int | None, now: datetime) -> str:
    """Add a unit; return its code."""
    tree = load_tree(conn)
    code = checked(UNIT_CODE, code, "code")
    name = checked(UNIT_NAME, name, "name")
    try:
        unit_kind = OrgKind(kind)
    except ValueError:
        raise OrgRefusal("kind", N_("Choose the kind of unit.")) from None
    try:
        unit_channel = Channel(channel) if channel else None
    except ValueError:
        raise OrgRefusal("channel", N_("Choose a channel from the list.")) from None
    if code.upper().startswith("UA-"):
        raise OrgRefusal("code", N_("Codes starting with UA- are reserved for the unassigned "
                                    "communities of the billing areas."))
    if tree.by_code(code) is not None:
        raise OrgRefusal("code", N_("The code %(code)s is taken already."), code=code)
    parent = _unit(tree, parent_code, "parent") if (parent_code or "").strip() else None
    _fits(unit_kind, unit_channel, parent)
    conn.execute(insert(OrgUnit).values(code=code, name=name, kind=unit_kind,
                                        parent_id=parent.id if parent else None,
                                        channel=unit_channel, retired=False))
    record(conn, staff_id=staff_id, subject="org_unit", key=code, action="created", now=now,
           new={"code": code, "name": name, "kind": unit_kind,
                "parent": parent.code if parent else None, "channel": unit_channel})
    _reshaped(conn, now)
    return code


def rename_unit(conn: Connection, code: str, name: str, *, staff_id: int | None,
                now: datetime) -> bool:
    """Give the unit a new name; False when the name is the same (nothing written)."""
    unit = _unit(load_tree(conn), code)
    _not_automatic(unit)
    name = checked(UNIT_NAME, name, "name")
    if name == unit.name:
        return False
    conn.execute(update(OrgUnit).where(OrgUnit.id == unit.id).values(name=name))
    record(conn, staff_id=staff_id, subject="org_unit", key=unit.code, action="renamed",
           now=now, old={"name": unit.name}, new={"name": name})
    return True


def move_unit(conn: Connection, code: str, parent_code: str, *, staff_id: int | None,
              now: datetime) -> bool:
    """Put the unit (and its subtree) under another parent of the right kind and
    channel; False when it sits there already."""
    tree = load_tree(conn)
    unit = _unit(tree, code)
    _not_automatic(unit)
    if unit.retired:
        raise OrgRefusal(None, N_("%(code)s is retired and cannot be moved."), code=unit.code)
    parent = _unit(tree, parent_code, "parent")
    if parent.id in {below.id for below in tree.subtree(unit)}:
        raise OrgRefusal("parent", N_("%(parent)s is %(code)s itself or one of its sub-units: "
                                      "a unit cannot move under itself."),
                         parent=parent.code, code=unit.code)
    if parent.id == unit.parent_id:
        return False
    _fits(unit.kind, unit.channel, parent)
    old_parent = tree.units[unit.parent_id].code if unit.parent_id else None
    conn.execute(update(OrgUnit).where(OrgUnit.id == unit.id).values(parent_id=parent.id))
    record(conn, staff_id=staff_id, subject="org_unit", key=unit.code, action="moved",
           now=now, old={"parent": old_parent}, new={"parent": parent.code})
    _reshaped(conn, now)
    return True


def _customers_refusal(conn: Connection, unit: Unit, action: str) -> None:
    count = customer_counts(conn, [unit.id]).get(unit.id, 0)
    if not count:
        return
    if action == "retire":
        message = N_("%(code)s cannot be retired: %(count)s customers sit there. Move its "
                     "customers to another unit first, then retire it.")
    else:
        message = N_("%(code)s cannot be deleted: %(count)s customers sit there. A unit "
                     "with customers is only retired, after its customers are moved to "
                     "another unit.")
    raise OrgRefusal(None, message, code=unit.code, count=count)


def _line_plant_uses(conn: Connection, unit: Unit) -> int:
    return sum(conn.scalar(select(func.count()).select_from(table)
                           .where(table.c.community_id == unit.id)) or 0
               for table in (JunctionBox.__table__, NumberSegment.__table__))


def retire_unit(conn: Connection, code: str, *, staff_id: int | None, now: datetime) -> None:
    """Retire a unit that nothing live depends on any more: no customers, no live
    sub-units, no billing area, no line plant mapped to it. It stays for history."""
    tree = load_tree(conn)
    unit = _unit(tree, code)
    _not_automatic(unit)
    if unit.retired:
        raise OrgRefusal(None, N_("%(code)s is retired already."), code=unit.code)
    _customers_refusal(conn, unit, "retire")
    live = [child for child in tree.children.get(unit.id, ()) if not child.retired]
    if live:
        raise OrgRefusal(None, N_("%(code)s has %(count)s sub-units that are not retired "
                                  "(%(first)s, ...): move or retire them first."),
                         code=unit.code, count=len(live), first=live[0].code)
    if conn.scalar(select(func.count()).where(BillingArea.city_id == unit.id)):
        raise OrgRefusal(None, N_("Billing areas belong to %(code)s: it cannot be retired."),
                         code=unit.code)
    if plant := _line_plant_uses(conn, unit):
        raise OrgRefusal(None, N_("%(count)s junction boxes or number segments map lines to "
                                  "%(code)s: map them elsewhere first."),
                         count=plant, code=unit.code)
    conn.execute(update(OrgUnit).where(OrgUnit.id == unit.id).values(retired=True))
    record(conn, staff_id=staff_id, subject="org_unit", key=unit.code, action="retired",
           now=now, old={"retired": False}, new={"retired": True})
    _reshaped(conn, now)


def _referring_tables(conn: Connection, unit: Unit) -> list[str]:
    """Tables with a row referring to ``unit``: every foreign key to ``org_unit.id`` (so
    the areas added later are covered too), and decisions and the adjustment log by code
    (every code a log row had as its old value was once a new value)."""
    found = []
    target = OrgUnit.__table__.c.id
    for table in db.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column is target and key.parent.table is not OrgUnit.__table__ \
                    and conn.scalar(select(exists().where(key.parent == unit.id))):
                found.append(table.name)
    by_code = ((SubscriberDecision.__table__, "value"), (CustomerDecision.__table__, "value"),
               (AdjustmentLogEntry.__table__, "new_value"))
    for table, column in by_code:
        if conn.scalar(select(exists().where(table.c.attribute == COMMUNITY,
                                             table.c[column] == unit.code))):
            found.append(table.name)
    return sorted(set(found))


def delete_unit(conn: Connection, code: str, *, staff_id: int | None, now: datetime) -> None:
    """Delete a unit that was never used: no customers, no sub-units, nothing referring
    to it. A unit that was used is retired instead."""
    tree = load_tree(conn)
    unit = _unit(tree, code)
    _not_automatic(unit)
    _customers_refusal(conn, unit, "delete")
    if tree.children.get(unit.id):
        raise OrgRefusal(None, N_("%(code)s has sub-units: it cannot be deleted."),
                         code=unit.code)
    if tables := _referring_tables(conn, unit):
        raise OrgRefusal(None, N_("%(code)s is referred to (%(tables)s): it cannot be "
                                  "deleted, only retired."), code=unit.code,
                         tables=", ".join(tables))
    described = _described(tree, unit)
    conn.execute(delete(OrgUnit).where(OrgUnit.id == unit.id))
    record(conn, staff_id=staff_id, subject="org_unit", key=unit.code, action="deleted",
           now=now, old=described)
    _reshaped(conn, now)


@dataclass(frozen=True)
class AreaRow:
    code: str
    name: str
    city_code: str
    city_name: str
    #: Codes of its unassigned communities.
    unassigned: list[str]


def billing_areas(conn: Connection) -> list[AreaRow]:
    """Every billing area with its city and unassigned communities, by code."""
    area, city = BillingArea.__table__, OrgUnit.__table__.alias("city")
    unit = OrgUnit.__table__
    communities: dict[int, list[str]] = {}
    for area_id, code in conn.execute(select(unit.c.unassigned_billing_area_id, unit.c.code)
                                      .where(unit.c.unassigned_billing_area_id.is_not(None))
                                      .order_by(unit.c.code)):
        communities.setdefault(area_id, []).append(code)
    return [AreaRow(row.code, row.name, row.city_code, row.city_name,
                    communities.get(row.id, []))
            for row in conn.execute(
                select(area.c.id, area.c.code, area.c.name, city.c.code.label("city_code"),
                       city.c.name.label("city_name"))
                .join(city, city.c.id == area.c.city_id).order_by(area.c.code))]


def add_billing_area(conn: Connection, *, code: str, name: str, city_code: str,
                     staff_id: int | None, now: datetime) -> list[str]:
    """Add a billing area under a city; its unassigned communities are created with it.
    Returns their codes."""
    code = checked(AREA_CODE, code, "code")
    name = checked(AREA_NAME, name, "name")
    if conn.scalar(select(exists().where(BillingArea.code == code))):
        raise OrgRefusal("code", N_("The code %(code)s is taken already."), code=code)
    city = _unit(load_tree(conn), city_code, "city")
    if city.kind != OrgKind.CITY or city.retired:
        raise OrgRefusal("city", N_("%(code)s is not a city branch in service."),
                         code=city.code)
    area_id = conn.execute(insert(BillingArea).values(code=code, name=name, city_id=city.id)
                           .returning(BillingArea.id)).scalar_one()
    create_unassigned_communities(conn)
    record(conn, staff_id=staff_id, subject="billing_area", key=code, action="created",
           now=now, new={"code": code, "name": name, "city": city.code})
    created = conn.execute(select(OrgUnit.code, OrgUnit.name, OrgUnit.channel)
                           .where(OrgUnit.unassigned_billing_area_id == area_id)
                           .order_by(OrgUnit.code)).all()
    for unit_code, unit_name, channel in created:
        record(conn, staff_id=staff_id, subject="org_unit", key=unit_code, action="created",
               now=now, new={"code": unit_code, "name": unit_name, "kind": OrgKind.COMMUNITY,
                             "parent": city.code, "channel": channel})
    return [unit_code for unit_code, _name, _channel in created]
