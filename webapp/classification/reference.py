"""What a run computes once and hands to every batch: the org tree and population figures."""

from bisect import bisect_left
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from engine.domain import OrgKind
from engine.language import Ruleset, rule_facts, walk
from webapp.classification.facts import (
    REVENUE_CENTS,
    MonthWindow,
    average,
    change_pct,
    report_month,
)
from webapp.classification.groups import type_list
from webapp.models import Customer, OrgUnit, Subscriber, SubscriberMonth


@dataclass(frozen=True)
class Unit:
    code: str
    kind: str
    channel: str | None
    parent: str | None
    #: A retired unit keeps its place (stored values may name it) but is never the
    #: department or centre a lookup finds.
    retired: bool = False


@dataclass
class OrgDirectory:
    """The org tree by code, for the community and department lookups."""

    units: dict[str, Unit]

    def __post_init__(self) -> None:
        self._departments = {(unit.parent, unit.channel): unit.code
                             for unit in sorted(self.units.values(), key=lambda u: u.code,
                                                reverse=True)
                             if unit.kind == OrgKind.DEPARTMENT and not unit.retired}
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
                         if u.kind == OrgKind.CENTRE and u.parent == unit.code
                         and not u.retired)
        return centres[0] if centres else None

    def department(self, community: str | None, channel: str) -> str | None:
        if not community:
            return None
        if community not in self._centres:
            self._centres[community] = self.centre_of(community)
        return self._departments.get((self._centres[community], channel))


#: Cutoffs by boundary (see :meth:`RunReference.cutoffs`).
Cutoffs = dict[str, int | None] | None
#: The cutoff of a boundary every total reaches.
LOWEST_TOTAL = -(2**62)


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
        return _share(bisect_left(self.revenue_distribution, total_12m),
                      len(self.revenue_distribution))

    def cutoffs(self, boundaries: Iterable[Decimal]) -> Cutoffs:
        """For each boundary ``b``, the least 12-month total whose percentile is ``b`` or
        more (None: no total reaches it). A comparison of the percentile with a constant
        ``t`` holds or not according to where the total lies among the cutoffs of ``t``
        and ``t + 0.01``: while those stay, so does its truth for every customer whose
        revenue did not change. None when there is no distribution (no percentiles)."""
        values, count = self.revenue_distribution, len(self.revenue_distribution)
        if not count:
            return None
        found: dict[str, int | None] = {}
        for boundary in boundaries:
            low, high = 0, count + 1  # the least number of lower totals that reaches it
            while low < high:
                middle = (low + high) // 2
                low, high = (low, middle) if _share(middle, count) >= boundary \
                    else (middle + 1, high)
            found[str(boundary)] = None if low > count else \
                LOWEST_TOTAL if low == 0 else values[low - 1] + 1
        return found


def _share(below: int, count: int) -> Decimal:
    return (Decimal(below * 100) / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def percentile_boundaries(rulesets: Iterable[Ruleset]) -> set[Decimal]:
    """The constants rules compare ``revenue_percentile`` with, and the next hundredth
    of each (where ``>`` and ``≤`` flip)."""
    constants: set[Decimal] = set()
    for ruleset in rulesets:
        for rule in ruleset.rules:
            for test in walk(rule.when):
                if test.fact == "revenue_percentile" and test.value is not None:
                    values = test.value if isinstance(test.value, tuple) else (test.value,)
                    constants.update(Decimal(value) for value in values)
    return constants | {constant + Decimal("0.01") for constant in constants}


def shifted_customers(totals: Iterable[tuple[int, int]], before: Cutoffs, after: Cutoffs
                      ) -> list[int]:
    """Customers (id, 12-month total) whose total lies between a boundary's cutoff
    ``before`` and ``after``: a comparison of their percentile may have flipped. Every
    customer when percentiles appeared or disappeared."""
    if (before is None) != (after is None):
        return [customer for customer, _total in totals]
    ranges = [tuple(sorted(_finite(cutoff) for cutoff in (before[key], after[key])))
              for key in (after or {}) if key in (before or {}) and before[key] != after[key]]
    return [customer for customer, total in totals
            if any(low <= total < high for low, high in ranges)]


def _finite(cutoff: int | None) -> int:
    return 2**62 if cutoff is None else cutoff


def reads_percentile(rulesets: Iterable[Ruleset]) -> bool:
    """Whether a rule of ``rulesets`` reads ``revenue_percentile`` (see
    :func:`load_reference`)."""
    return any("revenue_percentile" in rule_facts(rule)
               for ruleset in rulesets for rule in ruleset.rules)


def load_reference(conn: Connection, as_of: date, *, percentiles: bool = True,
                   totals: list[tuple[int, int, bool]] | None = None) -> RunReference:
    """The org tree and, when ``percentiles``, the revenue distribution (from ``totals``,
    else :func:`revenue_totals`: an aggregate over every customer's year of revenue,
    worth skipping when no rule reads it)."""
    window = MonthWindow.for_date(as_of)
    units = {row.code: Unit(row.code, str(row.kind), row.channel and str(row.channel),
                            row.parent_code, bool(row.retired))
             for row in conn.execute(_org_query())}
    if percentiles and totals is None:
        totals = revenue_totals(conn, as_of)
    distribution = sorted(total for _id, total, ranked in totals or [] if ranked)
    return RunReference(as_of, window, OrgDirectory(units), distribution)


def revenue_totals(conn: Connection, as_of: date, customers: Sequence[int] | None = None
                   ) -> list[tuple[int, int, bool]]:
    """Every customer's (or only ``customers``') 12-month revenue: (id, total in cents,
    whether it is ranked, i.e. has no VIP card)."""
    window = MonthWindow.for_date(as_of)
    query = (select(Customer.id, func.coalesce(func.sum(REVENUE_CENTS), 0),
                    Customer.vip_card == "none")
             .select_from(Customer)
             .outerjoin(Subscriber, Subscriber.customer_id == Customer.id)
             .outerjoin(SubscriberMonth, (SubscriberMonth.subscriber_id == Subscriber.id)
                        & SubscriberMonth.month.between(window.year_start, window.this))
             .group_by(Customer.id, Customer.vip_card))
    if customers is not None:
        query = query.where(Customer.id.in_(customers))
    return [(customer, int(total), bool(ranked)) for customer, total, ranked in conn.execute(query)]


def current_totals(conn: Connection, as_of: date, changed: Collection[int],
                   batch: int = 5000) -> list[tuple[int, int, bool]]:
    """:func:`revenue_totals` of every customer, from the totals their last evaluation
    kept (``Customer.revenue_12m_cents``), summed again only for the ``changed``
    customers (their lines' revenue may have changed: an import queued them) and those
    whose kept total is of another year (the month turned) or missing."""
    month = report_month(as_of)
    totals, again = [], []
    for customer, total, ranked, kept_for in conn.execute(
            select(Customer.id, Customer.revenue_12m_cents, Customer.vip_card == "none",
                   Customer.revenue_month)):
        if total is None or kept_for != month or customer in changed:
            again.append(customer)
        else:
            totals.append((customer, int(total), bool(ranked)))
    if len(again) > len(totals):
        return revenue_totals(conn, as_of)
    for start in range(0, len(again), batch):
        totals.extend(revenue_totals(conn, as_of, again[start:start + batch]))
    return totals


def _org_query() -> Any:
    parent = OrgUnit.__table__.alias("parent")
    return select(OrgUnit.code, OrgUnit.kind, OrgUnit.channel, OrgUnit.retired,
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
        "rev_12": rev_12,
        "community": community,
        "channel": unit.channel if unit else None,
        "key_account_department": org.department(community, "key_account"),
        "business_department": org.department(community, "business"),
        "bundled_department": org.department(community, "bundled"),
        "in_group": customer.group_types is not None,
        "group_type": type_list(customer.group_types),
    }


def _negated(text: str) -> tuple[int, ...]:
    """Sort key that prefers the lower service number under ``max``."""
    return tuple(-ord(char) for char in text)
