"""Refreshing the reports' summary tables (:mod:`webapp.models.reports`).

The scheduler's *reports* job (every ``CUSTCLASS_SCHEDULER_REPORTS_MINUTES``, default
15) and ``custclass reports refresh`` call :func:`refresh_stale`; ``custclass demo``
calls it after its run. Runs themselves never do: a *changed* run every few minutes
would otherwise pay the aggregation each time (seconds at a million lines), which is
the cost incremental runs must not carry. The summaries follow classification values,
and every change of a value writes an adjustment-log row (a rule's in a run, a pin or
a move at once), so a summary is stale when a newer log row or a newer finished run
exists. A page view reads a few thousand summary rows and never scans customers or
lines, and says when and after which run its summary was made.

What goes stale:

* population, division progress, customer groups and rule activity: after any
  finished run (group memberships change without a log row, but queue their customers;
  new customers arrive by import, which queues them) or log row newer than the summary.
  Rule activity adds only the days since its last refresh: the adjustment log is
  append-only, older days never change. The division progress also when the month
  turns: it counts the arrivals since the first of its month;
* stock: after a full, published or daily (*due*) run, or when the month turns. It
  reads 13 months of revenue rows, the costly part, and revenue arrives monthly: once a
  day is enough.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from engine.domain import (
    ClassifiedAttribute,
    DecisionSource,
    RunKind,
    RunStatus,
    SubscriberStatus,
)
from engine.months import add_months
from webapp.classification.facts import REVENUE_CENTS, report_month
from webapp.clock import start_of
from webapp.models import (
    AdjustmentLogEntry,
    ClassificationRun,
    Customer,
    CustomerDecision,
    OrgUnit,
    ReportArrival,
    ReportGroup,
    ReportPopulation,
    ReportRefresh,
    ReportRuleChange,
    ReportRuleDecision,
    ReportStock,
    Subscriber,
    SubscriberDecision,
    SubscriberMonth,
    customer_group_member,
)
from webapp.pipeline.arrivals import month_start
from webapp.pipeline.locks import RUN_LOCK, exclusive

PARTS = ("population", "division", "stock", "groups", "rules")
#: Runs that refresh everything, whatever they evaluated.
WHOLE_RUNS = (RunKind.FULL, RunKind.PUBLISHED, RunKind.DUE)
#: Months the stock report shows (the report month and the twelve before it).
STOCK_MONTHS = 13
#: Days of rule changes the report sums, and days kept in the summary.
CHANGE_DAYS = 30
KEPT_DAYS = 40
#: Statuses of lines that have left the stock.
GONE = (SubscriberStatus.DISCONNECTED, SubscriberStatus.CLOSED)
COMMUNITY = ClassifiedAttribute.COMMUNITY


def stock_months(as_of: date) -> list[date]:
    """The months of the stock report on ``as_of``: the latest complete month and the
    twelve before it, oldest first."""
    last = report_month(as_of)
    return [add_months(last, offset - STOCK_MONTHS + 1) for offset in range(STOCK_MONTHS)]


def refresh_stale(conn: Connection, as_of: date, now: datetime, zone: ZoneInfo
                  ) -> list[str]:
    """Refresh the summaries that runs or changes have made stale since their last
    refresh (see the module's docstring); the parts refreshed."""
    last = conn.execute(select(ClassificationRun.id, ClassificationRun.kind)
                        .where(ClassificationRun.status == RunStatus.FINISHED)
                        .order_by(ClassificationRun.id.desc()).limit(1)).first()
    last_whole = conn.scalar(select(func.max(ClassificationRun.id)).where(
        ClassificationRun.status == RunStatus.FINISHED, ClassificationRun.kind.in_(WHOLE_RUNS)))
    newest_log = conn.scalar(select(func.max(AdjustmentLogEntry.id)))
    stamps = refreshed(conn)

    def newer(value: int | None, stamped: int | None) -> bool:
        return value is not None and (stamped is None or value > stamped)

    population = stamps.get("population")
    parts = []
    if population is None or newer(last and last.id, population.run_id) \
            or newer(newest_log, population.log_id):
        parts = ["population", "division", "groups", "rules"]
    division = stamps.get("division")
    if "division" not in parts and (division is None
                                    or division.as_of.replace(day=1) != as_of.replace(day=1)):
        parts.append("division")
    stock = stamps.get("stock")
    if stock is None or report_month(stock.as_of) != report_month(as_of) \
            or newer(last_whole, stock.run_id):
        parts.append("stock")
    if parts:
        refresh(conn, parts, as_of, last.id if last else None, now, zone)
    return parts


def refresh_now(session: Session, as_of: date, zone: ZoneInfo, *, wait: bool = True
                ) -> list[str] | None:
    """:func:`refresh_stale`, committed, holding the run lock: runs and refreshes take
    turns (on SQLite the refresh's writes would otherwise wait on a run's). None when
    not ``wait``-ing and a run holds the lock: the next refresh will do."""
    with exclusive(session.get_bind(), RUN_LOCK, wait=wait) as taken:
        if not taken:
            return None
        parts = refresh_stale(session.connection(), as_of, datetime.now(UTC), zone)
        session.commit()
        return parts


def refresh(conn: Connection, parts: list[str], as_of: date, run_id: int | None,
            now: datetime, zone: ZoneInfo) -> None:
    """Rebuild the summaries ``parts`` (see :data:`PARTS`) as of ``as_of``."""
    with _homes(conn) as homes:
        for part in parts:
            if part == "population":
                _population(conn, homes)
            elif part == "division":
                _division(conn, homes, month_start(as_of, zone))
            elif part == "stock":
                _stock(conn, as_of)
            elif part == "groups":
                _groups(conn, homes, as_of)
            elif part == "rules":
                _rules(conn, homes, now, zone)
            else:
                raise ValueError(f"unknown report summary {part!r}")
            _stamp(conn, part, as_of, run_id, now)


def refreshed(conn: Connection) -> dict[str, ReportRefresh]:
    """When each summary was last refreshed (absent: never)."""
    return {row.part: row for row in conn.execute(select(ReportRefresh.__table__))}


def _stamp(conn: Connection, part: str, as_of: date, run_id: int | None,
           now: datetime) -> None:
    conn.execute(delete(ReportRefresh).where(ReportRefresh.part == part))
    conn.execute(insert(ReportRefresh).values(
        part=part, refreshed_at=now, as_of=as_of, run_id=run_id,
        log_id=conn.scalar(select(func.max(AdjustmentLogEntry.id)))))


@contextmanager
def _homes(conn: Connection) -> Iterator[Table]:
    """Every customer's home community (the lowest code among its lines' communities)
    and the unassigned community it waits in (the lowest such code; NULL: none), worked
    out once per refresh into a temporary table that the summaries join."""
    options: dict[str, Any] = {"prefixes": ["TEMPORARY"]}
    metadata = MetaData()
    homes = Table("report_homes", metadata, Column("customer_id", Integer, primary_key=True),
                  Column("community", String(40)), Column("waiting_in", String(40)),
                  **options)
    metadata.drop_all(conn, checkfirst=True)  # SQLite: left on a pooled connection by an error
    metadata.create_all(conn)
    value = SubscriberDecision.value
    unassigned = select(OrgUnit.code).where(OrgUnit.unassigned_billing_area_id.is_not(None))
    conn.execute(insert(homes).from_select(
        ["customer_id", "community", "waiting_in"],
        select(Subscriber.customer_id, func.min(value),
               func.min(case((value.in_(unassigned), value))))
        .join(SubscriberDecision, SubscriberDecision.subscriber_id == Subscriber.id)
        .where(SubscriberDecision.attribute == COMMUNITY)
        .group_by(Subscriber.customer_id)))
    if conn.dialect.name == "postgresql":  # temporary tables get no autovacuum
        conn.exec_driver_sql("ANALYZE report_homes")
    try:
        yield homes
    finally:
        metadata.drop_all(conn)


def _customer_values(query: Any, customer: Any) -> tuple[Any, Any]:
    """``query`` joined to the statistical attribute and service tier of ``customer`` (an
    id column), and those two values ("" when not decided): outer joins, which the
    database runs as two hash joins rather than a lookup per row."""
    values = []
    for attribute in (ClassifiedAttribute.STATISTICAL_ATTRIBUTE,
                      ClassifiedAttribute.SERVICE_TIER):
        decision = CustomerDecision.__table__.alias(f"customer_{attribute.value}")
        query = query.outerjoin(decision, (decision.c.customer_id == customer)
                                & (decision.c.attribute == attribute))
        values.append(func.coalesce(decision.c.value, ""))
    return query, values


def _line_community() -> Any:
    """``SubscriberDecision`` aliased as the line's community decision."""
    return SubscriberDecision.__table__.alias("line_community")


def _insert_summed(conn: Connection, table: Any, keys: list[str], values: list[str],
                   parts: list[Any]) -> None:
    """Replace ``table``'s rows with the sums of ``values`` over ``parts`` (selects of
    ``keys`` then ``values``, in that order) grouped by ``keys``."""
    union = union_all(*parts).subquery()
    conn.execute(delete(table))
    conn.execute(insert(table).from_select(
        keys + values,
        select(*(union.c[key] for key in keys),
               *(func.sum(union.c[value]) for value in values))
        .group_by(*(union.c[key] for key in keys))))


def _population(conn: Connection, homes: Table) -> None:
    line = _line_community()
    keys = ["community", "statistical_attribute", "service_tier"]
    values = ["customers", "subscribers"]
    by_customer, (category, tier) = _customer_values(select(homes), homes.c.customer_id)
    by_customer = by_customer.with_only_columns(
        homes.c.community.label("community"), category.label("statistical_attribute"),
        tier.label("service_tier"), literal(1).label("customers"),
        literal(0).label("subscribers"), maintain_column_froms=True)
    by_line, (category, tier) = _customer_values(
        select(Subscriber.id).select_from(Subscriber)
        .join(line, line.c.subscriber_id == Subscriber.id), Subscriber.customer_id)
    by_line = by_line.with_only_columns(
        line.c.value.label("community"), category.label("statistical_attribute"),
        tier.label("service_tier"), literal(0).label("customers"),
        literal(1).label("subscribers"), maintain_column_froms=True
    ).where(line.c.attribute == COMMUNITY)
    _insert_summed(conn, ReportPopulation, keys, values, [by_customer, by_line])


def _division(conn: Connection, homes: Table, since: datetime) -> None:
    """The customers created since ``since`` per community they are counted in (see
    :class:`webapp.models.ReportArrival`)."""
    community = func.coalesce(homes.c.waiting_in, homes.c.community)
    waiting = homes.c.waiting_in.is_not(None)
    conn.execute(delete(ReportArrival))
    conn.execute(insert(ReportArrival).from_select(
        ["community", "waiting", "customers"],
        select(community, waiting, func.count()).select_from(homes)
        .join(Customer, Customer.id == homes.c.customer_id)
        .where(Customer.created_at >= since).group_by(community, waiting)))


def _month_bucket(column: Any, months: list[date]) -> Any:
    """SQL: the month of the date ``column`` among ``months`` (earlier dates: the month
    before the first, the opening stock; later ones: NULL)."""
    opening = add_months(months[0], -1)
    branches = [(column < months[0], literal(opening, Date))]
    branches += [(column < add_months(month, 1), literal(month, Date)) for month in months]
    return case(*branches, else_=literal(None, Date))


def _disconnection_bucket(last_billed: Any, installed: Any, months: list[date]) -> Any:
    """SQL: the month a gone line left the stock: the month after its last month with
    revenue (lines never billed: their installation month), bucketed as
    :func:`_month_bucket` does."""
    opening = add_months(months[0], -1)
    branches = [(last_billed.is_(None), installed),
                (last_billed < opening, literal(opening, Date))]
    branches += [(last_billed == month, literal(add_months(month, 1), Date))
                 for month in [opening, *months[:-1]]]
    return case(*branches, else_=literal(None, Date))


def _stock(conn: Connection, as_of: date) -> None:
    months = stock_months(as_of)
    line = _line_community()
    keys = ["community", "month", "status"]
    values = ["installed", "disconnected", "billed", "revenue_cents"]
    installed = _month_bucket(Subscriber.install_date, months)
    lines = (select(line.c.value.label("community"), installed.label("month"),
                    Subscriber.status.label("status"), literal(1).label("installed"),
                    literal(0).label("disconnected"), literal(0).label("billed"),
                    literal(0).label("revenue_cents"))
             .select_from(Subscriber).join(line, line.c.subscriber_id == Subscriber.id)
             .where(line.c.attribute == COMMUNITY, installed.is_not(None)))
    last_billed = (select(SubscriberMonth.month).where(
        SubscriberMonth.subscriber_id == Subscriber.id, REVENUE_CENTS > 0)
        .order_by(SubscriberMonth.month.desc()).limit(1).scalar_subquery())
    gone_month = _disconnection_bucket(last_billed, installed, months)
    gone = (select(line.c.value.label("community"), gone_month.label("month"),
                   Subscriber.status.label("status"), literal(0).label("installed"),
                   literal(1).label("disconnected"), literal(0).label("billed"),
                   literal(0).label("revenue_cents"))
            .select_from(Subscriber).join(line, line.c.subscriber_id == Subscriber.id)
            .where(line.c.attribute == COMMUNITY, Subscriber.status.in_(GONE),
                   installed.is_not(None), gone_month.is_not(None)))
    billed = (select(line.c.value.label("community"), SubscriberMonth.month.label("month"),
                     Subscriber.status.label("status"), literal(0).label("installed"),
                     literal(0).label("disconnected"), literal(1).label("billed"),
                     REVENUE_CENTS.label("revenue_cents"))
              .select_from(SubscriberMonth)
              .join(Subscriber, Subscriber.id == SubscriberMonth.subscriber_id)
              .join(line, line.c.subscriber_id == Subscriber.id)
              .where(line.c.attribute == COMMUNITY,
                     SubscriberMonth.month.between(months[0], months[-1])))
    _insert_summed(conn, ReportStock, keys, values, [lines, gone, billed])


def _groups(conn: Connection, homes: Table, as_of: date) -> None:
    this = report_month(as_of)
    last = add_months(this, -1)
    member = customer_group_member
    line = _line_community()
    keys = ["group_id", "community"]
    values = ["customers", "subscribers", "revenue_this_cents", "revenue_last_cents"]
    customers = (select(member.c.group_id, homes.c.community, literal(1).label("customers"),
                        literal(0).label("subscribers"), literal(0).label("revenue_this_cents"),
                        literal(0).label("revenue_last_cents"))
                 .select_from(member).join(homes, homes.c.customer_id == member.c.customer_id))
    lines = (select(member.c.group_id, line.c.value.label("community"),
                    literal(0).label("customers"), literal(1).label("subscribers"),
                    literal(0).label("revenue_this_cents"),
                    literal(0).label("revenue_last_cents"))
             .select_from(member).join(Subscriber, Subscriber.customer_id == member.c.customer_id)
             .join(line, line.c.subscriber_id == Subscriber.id)
             .where(line.c.attribute == COMMUNITY))
    revenue = (select(member.c.group_id, line.c.value.label("community"),
                      literal(0).label("customers"), literal(0).label("subscribers"),
                      case((SubscriberMonth.month == this, REVENUE_CENTS), else_=0)
                      .label("revenue_this_cents"),
                      case((SubscriberMonth.month == last, REVENUE_CENTS), else_=0)
                      .label("revenue_last_cents"))
               .select_from(member).join(Subscriber, Subscriber.customer_id == member.c.customer_id)
               .join(line, line.c.subscriber_id == Subscriber.id)
               .join(SubscriberMonth, SubscriberMonth.subscriber_id == Subscriber.id)
               .where(line.c.attribute == COMMUNITY, SubscriberMonth.month.in_([this, last])))
    _insert_summed(conn, ReportGroup, keys, values, [customers, lines, revenue])


def _rules(conn: Connection, homes: Table, now: datetime, zone: ZoneInfo) -> None:
    line = _line_community()
    keys = ["subject", "ruleset_name", "rule_id", "community"]
    customers = (select(literal("customer").label("subject"), CustomerDecision.ruleset_name,
                        CustomerDecision.rule_id, homes.c.community,
                        literal(1).label("decided"))
                 .select_from(CustomerDecision)
                 .join(homes, homes.c.customer_id == CustomerDecision.customer_id)
                 .where(CustomerDecision.source == DecisionSource.RULE,
                        CustomerDecision.rule_id.is_not(None),
                        CustomerDecision.ruleset_name.is_not(None)))
    lines = (select(literal("subscriber").label("subject"), SubscriberDecision.ruleset_name,
                    SubscriberDecision.rule_id, line.c.value.label("community"),
                    literal(1).label("decided"))
             .select_from(SubscriberDecision)
             .join(line, line.c.subscriber_id == SubscriberDecision.subscriber_id)
             .where(line.c.attribute == COMMUNITY,
                    SubscriberDecision.source == DecisionSource.RULE,
                    SubscriberDecision.rule_id.is_not(None),
                    SubscriberDecision.ruleset_name.is_not(None)))
    _insert_summed(conn, ReportRuleDecision, keys, ["decided"], [customers, lines])
    _rule_changes(conn, homes, now, zone)


def _rule_changes(conn: Connection, homes: Table, now: datetime, zone: ZoneInfo) -> None:
    """Sum the log's rule-written rows of every day since the last refresh (the day of
    that refresh again: it may have been partial) and forget days past
    :data:`KEPT_DAYS`."""
    today = now.astimezone(zone).date()
    earliest = today - timedelta(days=CHANGE_DAYS)
    last = conn.scalar(select(func.max(ReportRuleChange.day)))
    stamp = conn.scalar(select(ReportRefresh.refreshed_at).where(ReportRefresh.part == "rules"))
    start = earliest
    if last is not None and stamp is not None:
        refreshed_on = _local_day(stamp, zone)
        start = max(earliest, min(last, refreshed_on))
    conn.execute(delete(ReportRuleChange).where(
        (ReportRuleChange.day >= start) | (ReportRuleChange.day < today
                                           - timedelta(days=KEPT_DAYS))))
    log = AdjustmentLogEntry
    line = _line_community()
    community = func.coalesce(case((log.subscriber_id.is_not(None), line.c.value),
                                   else_=homes.c.community), "")
    day = start
    while day <= today:
        conn.execute(insert(ReportRuleChange).from_select(
            ["day", "ruleset_name", "rule_id", "community", "changes"],
            select(literal(day, Date), log.ruleset_name, log.rule_id, community, func.count())
            .select_from(log)
            .outerjoin(line, (line.c.subscriber_id == log.subscriber_id)
                       & (line.c.attribute == COMMUNITY))
            .outerjoin(homes, homes.c.customer_id == log.customer_id)
            .where(log.logged_at >= start_of(day, zone),
                   log.logged_at < start_of(day + timedelta(days=1), zone),
                   log.rule_id.is_not(None), log.ruleset_name.is_not(None))
            .group_by(log.ruleset_name, log.rule_id, community)))
        day += timedelta(days=1)


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The operator's day of a stored time (SQLite returns them naive, in UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()
