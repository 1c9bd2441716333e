"""The dashboard's figures, limited to the signed-in person's org scope.

* how many customers, and lines of those customers, there are;
* customers by statistical attribute, service tier and lifecycle stage
  (``customer_decision``, read through ``ix_customer_decision_attribute_value``);
* changes per day of the operator's calendar over the last :data:`CHANGE_DAYS` days, by
  attribute (``adjustment_log``: one range of ``ix_adjustment_log_logged_at`` per day);
* open alerts by type and severity;
* the latest classification runs with their counts and status (province-wide: a run
  concerns no one customer, and admins start them from this page).

A line, a log row or an alert counts when its customer is in scope
(:meth:`webapp.scope.Scope.customers`, worked out once per dashboard: see
:func:`in_scope`); for the whole province no condition is added.
"""

from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    CompoundSelect,
    Connection,
    DateTime,
    Integer,
    MetaData,
    Select,
    Table,
    and_,
    func,
    insert,
    literal,
    select,
    union_all,
)

from engine.domain import (
    ClassifiedAttribute,
    LifecycleStage,
    RunKind,
    RunStatus,
    Severity,
    StatisticalAttribute,
)
from webapp.clock import start_of
from webapp.models import (
    AdjustmentLogEntry,
    Alert,
    ClassificationRun,
    Customer,
    CustomerDecision,
    Subscriber,
)
from webapp.scope import Scope

#: The attributes whose distribution over customers the dashboard charts.
DISTRIBUTED = (ClassifiedAttribute.STATISTICAL_ATTRIBUTE, ClassifiedAttribute.SERVICE_TIER,
               ClassifiedAttribute.LIFECYCLE_STAGE)
#: Values in the order of their vocabulary; values outside it (and the attributes
#: without one: tiers are data) come after, most customers first.
VOCABULARY: dict[ClassifiedAttribute, tuple[str, ...]] = {
    ClassifiedAttribute.STATISTICAL_ATTRIBUTE: tuple(value.value for value in StatisticalAttribute),
    ClassifiedAttribute.LIFECYCLE_STAGE: tuple(stage.value for stage in LifecycleStage),
}
#: Days of the changes chart, today included.
CHANGE_DAYS = 90
#: Runs listed.
RECENT_RUNS = 10


@dataclass(frozen=True)
class Totals:
    customers: int
    lines: int


@dataclass(frozen=True)
class Distribution:
    """Customers per value of one attribute."""

    attribute: ClassifiedAttribute
    counts: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(count for _, count in self.counts)


@dataclass(frozen=True)
class DailyChanges:
    """Adjustment-log rows per day (oldest first) and attribute."""

    days: tuple[date, ...]
    attributes: tuple[ClassifiedAttribute, ...]
    counts: Mapping[tuple[date, ClassifiedAttribute], int]

    def count(self, day: date, attribute: ClassifiedAttribute) -> int:
        return self.counts.get((day, attribute), 0)

    def on(self, day: date) -> int:
        return sum(self.count(day, attribute) for attribute in self.attributes)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class OpenAlerts:
    """Alerts not cleared, per type (most first) and severity."""

    types: tuple[str, ...]
    #: The severities that occur, in the vocabulary's order.
    severities: tuple[Severity, ...]
    counts: Mapping[tuple[str, Severity], int]

    def count(self, alert_type: str, severity: Severity) -> int:
        return self.counts.get((alert_type, severity), 0)

    def of_type(self, alert_type: str) -> int:
        return sum(self.count(alert_type, severity) for severity in self.severities)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class RecentRun:
    id: int
    kind: RunKind
    status: RunStatus
    as_of: date
    started_at: datetime
    finished_at: datetime | None
    customers: int
    subscribers: int
    #: Values written: ``decisions``, ``alerts raised``, ``alerts cleared``, ``pins released``.
    changes: Mapping[str, int]
    #: Records a ruleset could not decide.
    not_decided: int
    detail: str | None

    @property
    def running(self) -> bool:
        return self.status is RunStatus.RUNNING


@dataclass(frozen=True)
class Figures:
    totals: Totals
    distributions: tuple[Distribution, ...]
    changes: DailyChanges
    alerts: OpenAlerts
    runs: tuple[RecentRun, ...]


def figures(conn: Connection, scope: Scope, today: date, zone: ZoneInfo) -> Figures:
    """Every figure of the dashboard for ``scope``; ``today`` is the operator's (in
    ``zone``), the last day of the changes chart."""
    with in_scope(conn, scope) as scoped:
        return Figures(totals(conn, scoped), distributions(conn, scoped),
                       daily_changes(conn, scoped, today, zone),
                       open_alerts(conn, scoped), recent_runs(conn))


@dataclass(frozen=True)
class InScope:
    """The customers of a scope (``customers.c.customer_id``) and their lines
    (``lines.c.subscriber_id``), as temporary tables."""

    customers: Table
    lines: Table


@contextmanager
def in_scope(conn: Connection, scope: Scope) -> Iterator[InScope | None]:
    """The customers in ``scope`` and their lines, worked out once into temporary tables
    that the figures' queries join; None for the whole province (no condition at all).

    Deciding the scope (an index range of the lines' communities, joined to their
    customers) is the costly part of a scoped figure: done once, not in every query. The
    queries join the tables rather than test ``IN (subquery)``: an ``OR`` of two such
    tests is planned by PostgreSQL as a subquery run per row.
    """
    if scope.whole_province:
        yield None
        return
    options: dict[str, Any] = {"prefixes": ["TEMPORARY"]}
    if conn.dialect.name == "postgresql":
        options["postgresql_on_commit"] = "DROP"
    metadata = MetaData()
    scoped = InScope(
        Table("dashboard_customers", metadata,
              Column("customer_id", Integer, primary_key=True), **options),
        Table("dashboard_lines", metadata,
              Column("subscriber_id", Integer, primary_key=True), **options))
    metadata.drop_all(conn, checkfirst=True)  # SQLite: left on a pooled connection by an error
    metadata.create_all(conn)
    conn.execute(insert(scoped.customers).from_select(
        ["customer_id"], select(Customer.id).where(scope.customers())))
    conn.execute(insert(scoped.lines).from_select(
        ["subscriber_id"], select(Subscriber.id).join(
            scoped.customers, scoped.customers.c.customer_id == Subscriber.customer_id)))
    if conn.dialect.name == "postgresql":  # temporary tables get no autovacuum
        conn.exec_driver_sql("ANALYZE dashboard_customers, dashboard_lines")
    yield scoped
    metadata.drop_all(conn)


def _of_customers(query: Select[Any], customer: Any, scoped: InScope | None) -> Select[Any]:
    """``query`` limited to rows whose ``customer`` (an id column) is in scope."""
    if scoped is None:
        return query
    return query.join(scoped.customers, scoped.customers.c.customer_id == customer)


def _of_customers_and_lines(query: Select[Any], customer: Any, line: Any,
                            scoped: InScope | None) -> Select[Any] | CompoundSelect:
    """``query`` (rows about a customer or a line) limited to rows whose ``customer`` or
    ``line`` is in scope: two branches, each a join."""
    if scoped is None:
        return query
    return union_all(
        query.join(scoped.customers, scoped.customers.c.customer_id == customer),
        query.join(scoped.lines, scoped.lines.c.subscriber_id == line))


def totals(conn: Connection, scoped: InScope | None) -> Totals:
    """Customers, and lines of those customers (``scoped``: see :func:`in_scope`)."""
    counted = conn.scalar(select(func.count()).select_from(
        Customer if scoped is None else scoped.customers))
    lines = conn.scalar(select(func.count()).select_from(
        Subscriber if scoped is None else scoped.lines))
    return Totals(counted or 0, lines or 0)


def distributions(conn: Connection, scoped: InScope | None) -> tuple[Distribution, ...]:
    """Customers per value of each of :data:`DISTRIBUTED`."""
    decision = CustomerDecision
    rows = conn.execute(
        _of_customers(select(decision.attribute, decision.value, func.count())
                      .where(decision.attribute.in_(DISTRIBUTED)),
                      decision.customer_id, scoped)
        .group_by(decision.attribute, decision.value)).all()
    counted: dict[ClassifiedAttribute, Counter[str]] = {attribute: Counter()
                                                         for attribute in DISTRIBUTED}
    for attribute, value, count in rows:
        counted[ClassifiedAttribute(attribute)][value] = count
    return tuple(Distribution(attribute, _ordered(attribute, counted[attribute]))
                 for attribute in DISTRIBUTED)


def _ordered(attribute: ClassifiedAttribute, counts: Counter[str]
             ) -> tuple[tuple[str, int], ...]:
    known = [value for value in VOCABULARY.get(attribute, ()) if value in counts]
    others = sorted((value for value in counts if value not in known),
                    key=lambda value: (-counts[value], value))
    return tuple((value, counts[value]) for value in [*known, *others])


def daily_changes(conn: Connection, scoped: InScope | None, today: date, zone: ZoneInfo,
                  days: int = CHANGE_DAYS) -> DailyChanges:
    """Log rows per day of the operator's calendar (``zone``) and attribute, for the
    ``days`` days ending with ``today``.

    The days' bounds (local midnights, in UTC) are computed here and joined as a small
    table: each day is a range of the ``logged_at`` index on either database, and a day
    is exactly the operator's whatever the time zone's rules (daylight saving included).
    """
    calendar = tuple(today - timedelta(days=back) for back in range(days - 1, -1, -1))
    stamp = DateTime(timezone=True)
    bounds = union_all(*(
        select(literal(number, Integer).label("day"),
               literal(start_of(day, zone), stamp).label("starts"),
               literal(start_of(day + timedelta(days=1), zone), stamp).label("ends"))
        for number, day in enumerate(calendar))).subquery("days")
    log = AdjustmentLogEntry
    window = and_(log.logged_at >= start_of(calendar[0], zone),
                  log.logged_at < start_of(today + timedelta(days=1), zone))
    rows = _of_customers_and_lines(
        select(bounds.c.day, log.attribute)
        .join_from(bounds, log, and_(log.logged_at >= bounds.c.starts,
                                     log.logged_at < bounds.c.ends))
        .where(window),  # the whole window at once: the planner may read it first
        log.customer_id, log.subscriber_id, scoped).subquery("changed")
    counts = {(calendar[number], ClassifiedAttribute(attribute)): count
              for number, attribute, count in conn.execute(
                  select(rows.c.day, rows.c.attribute, func.count())
                  .group_by(rows.c.day, rows.c.attribute))}
    return DailyChanges(calendar, tuple(ClassifiedAttribute), counts)


def open_alerts(conn: Connection, scoped: InScope | None) -> OpenAlerts:
    """Alerts not cleared, by type and severity."""
    open_ = _of_customers_and_lines(
        select(Alert.alert_type, Alert.severity).where(Alert.cleared_at.is_(None)),
        Alert.customer_id, Alert.subscriber_id, scoped).subquery("open_alert")
    rows = conn.execute(select(open_.c.alert_type, open_.c.severity, func.count())
                        .group_by(open_.c.alert_type, open_.c.severity)).all()
    counts = {(alert_type, Severity(severity)): count for alert_type, severity, count in rows}
    per_type: Counter[str] = Counter()
    for (alert_type, _), count in counts.items():
        per_type[alert_type] += count
    types = tuple(sorted(per_type, key=lambda alert_type: (-per_type[alert_type], alert_type)))
    severities = tuple(severity for severity in Severity
                       if any(seen == severity for _, seen in counts))
    return OpenAlerts(types, severities, counts)


def recent_runs(conn: Connection, limit: int = RECENT_RUNS) -> tuple[RecentRun, ...]:
    """The latest runs, newest first."""
    run = ClassificationRun
    rows = conn.execute(select(run.id, run.kind, run.status, run.as_of, run.started_at,
                               run.finished_at, run.customers, run.subscribers, run.changes,
                               run.errors, run.detail)
                        .order_by(run.id.desc()).limit(limit)).all()
    return tuple(RecentRun(row.id, RunKind(row.kind), RunStatus(row.status), row.as_of,
                           row.started_at, row.finished_at, row.customers, row.subscribers,
                           dict(row.changes or {}), _not_decided(row.errors), row.detail)
                 for row in rows)


def _not_decided(errors: Mapping[str, Any] | None) -> int:
    return sum((errors or {}).get("by_ruleset", {}).values())
