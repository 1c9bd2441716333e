"""What a run computes once and hands to every batch: the org tree and population figures."""

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from engine.domain import OrgKind
from engine.language import Ruleset, rule_facts
from webapp.classification.facts import REVENUE_CENTS, MonthWindow, average, change_pct
from webapp.models import Customer, OrgUnit, Subscriber, SubscriberMonth


@dataclass(frozen=True)
class Unit:
    code: str
    kind: str
    channel: str | None
    parent: str | None


@dataclass
class OrgDirectory:
    """The org tree by code, for the community and department lookups."""

    units: dict[str, Unit]

    def __post_init__(self) -> None:
        self._departments = {(unit.parent, unit.channel): unit.code
                             for unit in sorted(self.units.values(), key=lambda u: u.code,
                                                reverse=True)
                             if unit.kind == OrgKind.DEPARTMENT}
        self._centres: dict[str, str | None] = {}

    def centre_of(self, code: str) -> str | None:
        """The centre above a unit; for a city-level (unassigned) community, the city's
        first centre by code."""
        unit = self.units.get(code)
        while unit is not None and unit.kind not in (OrgKind.CENTRE, OrgKind.CITY):
            unit = self.units.get(unit.parent or "")
        if unit is None or unit.kind == OrgKind.CENTRE:
            return unit.code if unit else None
        centres = sorted(u.code for u in self.units.values()
                         if u.kind == OrgKind.CENTRE and u.parent == unit.code)
        return centres[0] if centres else None

    def department(self, community: str | None, channel: str) -> str | None:
        if not community:
            return None
        if community not in self._centres:
            self._centres[community] = self.centre_of(community)
        return self._departments.get((self._centres[community], channel))


@dataclass
class RunReference:
    as_of: date
    window: MonthWindow
    org: OrgDirectory
    #: 12-month revenue totals of the customers without a VIP card, ascending.
    revenue_distribution: list[int]

    def percentile(self, total_12m: int) -> Decimal | None:
        """Share of customers without a VIP card whose 12-month revenue is lower, in %."""
        if not self.revenue_distribution:
            return None
        below = bisect_left(self.revenue_distribution, total_12m)
        share = Decimal(below * 100) / len(self.revenue_distribution)
        return share.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def reads_percentile(rulesets: Iterable[Ruleset]) -> bool:
    """Whether a rule of ``rulesets`` reads ``revenue_percentile`` (see
    :func:`load_reference`)."""
    return any("revenue_percentile" in rule_facts(rule)
               for ruleset in rulesets for rule in ruleset.rules)


def load_reference(conn: Connection, as_of: date, *, percentiles: bool = True
                   ) -> RunReference:
    """The org tree and, when ``percentiles``, the revenue distribution (an aggregate
    over every customer's year of revenue: worth skipping when no rule reads it)."""
    window = MonthWindow.for_date(as_of)
    units = {row.code: Unit(row.code, str(row.kind), row.channel and str(row.channel),
                            row.parent_code)
             for row in conn.execute(_org_query())}
    totals = (
        select(func.coalesce(func.sum(REVENUE_CENTS), 0))
        .select_from(Customer)
        .outerjoin(Subscriber, Subscriber.customer_id == Customer.id)
        .outerjoin(SubscriberMonth, (SubscriberMonth.subscriber_id == Subscriber.id)
                   & SubscriberMonth.month.between(window.year_start, window.this))
        .where(Customer.vip_card == "none")
        .group_by(Customer.id)
    )
    distribution = sorted(int(total) for total in conn.scalars(totals)) if percentiles else []
    return RunReference(as_of, window, OrgDirectory(units), distribution)


def _org_query() -> Any:
    parent = OrgUnit.__table__.alias("parent")
    return select(OrgUnit.code, OrgUnit.kind, OrgUnit.channel,
                  parent.c.code.label("parent_code")).outerjoin(
        parent, parent.c.id == OrgUnit.parent_id)


def customer_facts(customer: Any, lines: list[dict[str, Any]], reference: RunReference
                   ) -> dict[str, Any]:
    """A customer's fact record from its row and its lines' facts (with their community,
    decided by attribution, under ``community``)."""
    main = max(lines, key=lambda line: (line["rev_12"], -line["install_date"].toordinal(),
                                        _negated(line["service_number"]))) if lines else {}
    has_this = [line["revenue_this_month"] for line in lines
                if line["revenue_this_month"] is not None]
    rev_this = sum(has_this) if has_this else None
    rev_prev3 = sum(line["rev_prev3"] for line in lines)
    rev_12 = sum(line["rev_12"] for line in lines)
    community = main.get("community")
    org = reference.org
    unit = org.units.get(community or "")
    return {
        "key": customer.id,
        "customer_code": customer.code,
        "customer_name": customer.name,
        "vip_card": str(customer.vip_card),
        "key_account": customer.key_account_code is not None,
        "line_count": len(lines),
        "active_line_count": sum(1 for line in lines if line["status"] == "active"),
        "prepaid_only": bool(lines) and all(line["prepaid"] for line in lines),
        "main_product": main.get("product"),
        "install_date": min((line["install_date"] for line in lines), default=None),
        "revenue_this_month": rev_this,
        "revenue_avg_3m": average(rev_prev3, 3),
        "revenue_avg_12m": average(rev_12, 12),
        "revenue_change_pct": change_pct(rev_this, rev_prev3),
        "tenure_months": max((line["tenure_months"] for line in lines), default=0),
        "revenue_percentile": reference.percentile(rev_12),
        "community": community,
        "channel": unit.channel if unit else None,
        "key_account_department": org.department(community, "key_account"),
        "business_department": org.department(community, "business"),
        "bundled_department": org.department(community, "bundled"),
    }


def _negated(text: str) -> tuple[int, ...]:
    """Sort key that prefers the lower service number under ``max``."""
    return tuple(-ord(char) for char in text)
