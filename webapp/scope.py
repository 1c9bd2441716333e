"""Org scope: the part of the organisation a staff member may see and change.

A person's scope is the subtree under their org unit, plus the unassigned communities of
their city's billing areas in their channel: customers wait there for the monthly
division, and the managers of that city's departments move them out. A person without an
org unit sees the whole province. Pages, exports and the API filter customers with
:meth:`Scope.customers`, so the same rule applies everywhere.
"""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, select, true

from engine.domain import ClassifiedAttribute, OrgKind
from webapp.models import Customer, OrgUnit, StaffUser, Subscriber, SubscriberDecision


@dataclass(frozen=True)
class Scope:
    """The communities a person may see (None: every one, the whole province)."""

    communities: frozenset[str] | None

    @property
    def whole_province(self) -> bool:
        return self.communities is None

    def __contains__(self, community: str) -> bool:
        return self.communities is None or community in self.communities

    def customers(self) -> ColumnElement[bool]:
        """Condition on ``customer.id``: a line of the customer is in one of the
        communities (always true for the whole province)."""
        if self.communities is None:
            return true()
        return Customer.id.in_(
            select(Subscriber.customer_id)
            .join(SubscriberDecision, SubscriberDecision.subscriber_id == Subscriber.id)
            .where(SubscriberDecision.attribute == ClassifiedAttribute.COMMUNITY,
                   SubscriberDecision.value.in_(sorted(self.communities))))


def scope_of(conn: Connection, staff: StaffUser) -> Scope:
    """The scope of ``staff`` (read from the org tree, which is small)."""
    if staff.org_unit_id is None:
        return Scope(None)
    units = conn.execute(select(OrgUnit.id, OrgUnit.code, OrgUnit.kind, OrgUnit.parent_id,
                                OrgUnit.channel, OrgUnit.unassigned_billing_area_id)).all()
    by_id = {unit.id: unit for unit in units}
    children: dict[int | None, list[int]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit.id)
    home = by_id.get(staff.org_unit_id)
    if home is None:
        return Scope(frozenset())
    communities = set()
    pending = [home.id]
    while pending:
        unit = by_id[pending.pop()]
        if unit.kind == OrgKind.COMMUNITY:
            communities.add(unit.code)
        pending.extend(children.get(unit.id, ()))
    city = home
    while city.kind not in (OrgKind.CITY, OrgKind.PROVINCE) and city.parent_id is not None:
        city = by_id[city.parent_id]
    if city.kind == OrgKind.CITY:
        communities.update(
            by_id[child].code for child in children.get(city.id, ())
            if by_id[child].unassigned_billing_area_id is not None
            and (home.channel is None or by_id[child].channel == home.channel))
    return Scope(frozenset(communities))
