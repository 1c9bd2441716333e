"""Incremental runs day by day store exactly what a full run on the last day would.

Random data changes (subscriber lines, arrears, revenue, VIP cards, key accounts, the
junction box of lines, the community of junction boxes and number segments) go through
the real feed importer, which queues what changed; the date moves forward in random
steps, with a *due* run on each new day (sometimes a *changed* run first). A full run on
the last day must then write nothing: it writes only values that differ, so writing
nothing means the incremental state is the full state.

That includes ``revenue_percentile``, ranked in the whole population (the 12-month revenue
of the customers without a VIP card): when changes elsewhere move the population across a
cutoff of the rules' thresholds, the next run re-evaluates the customers in between.
"""

import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import count
from pathlib import Path
from typing import Any, TypeVar

import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, func, or_, select
from sqlalchemy.orm import aliased

from engine.domain import OrgKind, RunKind, RunStatus, SubscriberStatus, VipCard
from engine.months import add_months
from tests.feeds.helpers import feed_file
from tests.test_pipeline import AS_OF, _demo
from webapp.classification.facts import report_month
from webapp.database import db
from webapp.feeds import FEEDS, import_file
from webapp.models import (
    Alert,
    BillingArea,
    ClassificationRun,
    Customer,
    CustomerDecision,
    JunctionBox,
    NumberSegment,
    OrgUnit,
    Subscriber,
    SubscriberDecision,
)
from webapp.pipeline.runs import reclassify

Key = tuple[str, int, str]
T = TypeVar("T")


@dataclass(frozen=True)
class State:
    """What runs store: decision values (with the rules' value under a pin), open alerts
    (how many per line, type and rule) and the day each customer is due again."""

    decisions: dict[Key, tuple[str, str | None]]
    alerts: Counter[tuple[int, str, str]]
    due: dict[int, date | None]

    def differences(self, other: "State") -> dict[tuple[Any, ...], tuple[Any, Any]]:
        """Decisions (by subject, id and attribute) and open alerts (by ``alert``, line,
        type and rule: how many) that differ from ``other``: key -> (here, there)."""
        found: dict[tuple[Any, ...], tuple[Any, Any]] = {
            key: (self.decisions.get(key), other.decisions.get(key))
            for key in self.decisions.keys() | other.decisions.keys()
            if self.decisions.get(key) != other.decisions.get(key)}
        found.update({("alert", *identity): (self.alerts[identity], other.alerts[identity])
                      for identity in self.alerts.keys() | other.alerts.keys()
                      if self.alerts[identity] != other.alerts[identity]})
        return found


def stored_state(conn: Connection) -> State:
    """The classification stored now."""
    decisions: dict[Key, tuple[str, str | None]] = {}
    for subject, model, key in (("customer", CustomerDecision, CustomerDecision.customer_id),
                                ("subscriber", SubscriberDecision,
                                 SubscriberDecision.subscriber_id)):
        for row in conn.execute(select(key, model.attribute, model.value, model.rule_value)):
            decisions[subject, row[0], str(row.attribute)] = (row.value, row.rule_value)
    alerts = Counter((row.subscriber_id, row.alert_type, row.rule_id) for row in conn.execute(
        select(Alert.subscriber_id, Alert.alert_type, Alert.rule_id)
        .where(Alert.cleared_at.is_(None))))
    due = {row.id: row.due_on for row in conn.execute(select(Customer.id, Customer.due_on))}
    return State(decisions, alerts, due)


def assert_no_open_alert_twice(state: State) -> None:
    twice = [identity for identity, open_ in state.alerts.items() if open_ > 1]
    assert not twice, f"alerts open more than once: {twice[:10]}"


# Random data changes: rows of a feed file, from the data stored now.

def _yuan(cents: int) -> str:
    return f"{'-' if cents < 0 else ''}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass
class Draws:
    """An example's draws, recorded as they are made."""

    data: st.DataObject
    made: list[tuple[st.SearchStrategy[Any], str | None]] = field(default_factory=list)

    def draw(self, strategy: st.SearchStrategy[T], label: str | None = None) -> T:
        self.made.append((strategy, label))
        return self.data.draw(strategy, label=label)


# Draws do not depend on the data (indexes, not sampled_from over rows read now), so
# hypothesis can replay an example's draws after the data moved on.
INDEX = st.integers(0, 9_999)


def _pick(data: Draws, items: Sequence[T], label: str) -> T:
    return items[data.draw(INDEX, label=label) % len(items)]


def _some(data: Draws, items: Sequence[T], label: str) -> list[T]:
    """One to four of ``items``, maybe one twice (the caller draws as often whatever the
    data, then keeps the last)."""
    indexes = data.draw(st.lists(INDEX, min_size=1, max_size=4), label=label)
    return [items[index % len(items)] for index in indexes]


def _numbers(conn: Connection) -> list[str]:
    return list(conn.scalars(select(Subscriber.service_number).order_by(Subscriber.id)))


def _subscriber_rows(data: Draws, conn: Connection, day: date) -> list[list[str]]:
    """Whole lines as billing sends them, a few with a changed status, agreement end
    (near ``day``), product, prepaid balance or contract (another customer's)."""
    query = (select(Subscriber.service_number, Subscriber.name, Subscriber.install_address,
                    Subscriber.status, Subscriber.contract_number,
                    BillingArea.code.label("billing_area_code"), Subscriber.install_date,
                    Subscriber.product, Subscriber.prepaid,
                    Subscriber.balance_cents.label("balance"), Subscriber.agreement_end_date)
             .join(BillingArea, BillingArea.id == Subscriber.billing_area_id)
             .order_by(Subscriber.service_number))
    lines = {row.service_number: dict(row._mapping) for row in conn.execute(query)}
    products = sorted({line["product"] for line in lines.values() if line["product"]})
    contracts = sorted({line["contract_number"] for line in lines.values()})
    rows = {}
    for number in _some(data, list(lines), "lines changed"):
        line = lines[number]
        for change in data.draw(st.sets(st.sampled_from(
                ["status", "agreement", "product", "prepaid", "contract"]), min_size=1),
                label="changes"):
            if change == "status":
                line["status"] = data.draw(st.sampled_from([s.value for s in SubscriberStatus]),
                                           label="status")
            elif change == "agreement":
                days = data.draw(st.none() | st.integers(-5, 45), label="agreement end - day")
                line["agreement_end_date"] = (
                    None if days is None else max(line["install_date"], day + timedelta(days)))
            elif change == "product":
                line["product"] = _pick(data, products, "product")
            elif change == "prepaid":
                line["prepaid"] = data.draw(st.booleans(), label="prepaid")
                line["balance"] = data.draw(st.integers(-2000, 5000), label="balance cents") \
                    if line["prepaid"] else None
            else:
                line["contract_number"] = _pick(data, contracts, "contract")
        shown = {**line, "balance": None if line["balance"] is None else _yuan(line["balance"])}
        rows[number] = [_cell(shown[column]) for column in FEEDS["subscribers"].schema.columns()]
    return list(rows.values())


def _arrears_rows(data: Draws, conn: Connection, day: date) -> list[list[str]]:
    """The complete list of debtors: today's, with a few paid up, new or changed."""
    debtors = {row.service_number: (row.arrears_cents, row.arrears_days)
               for row in conn.execute(
                   select(Subscriber.service_number, Subscriber.arrears_cents,
                          Subscriber.arrears_days)
                   .where(or_(Subscriber.arrears_cents != 0, Subscriber.arrears_days != 0)))}
    for number in _some(data, _numbers(conn), "arrears changed"):
        if data.draw(st.booleans(), label="paid up"):
            debtors.pop(number, None)
        else:
            debtors[number] = (
                data.draw(st.sampled_from([0, 49_999, 50_000]) | st.integers(0, 90_000)),
                data.draw(st.sampled_from([0, 1, 30, 31, 90, 91]) | st.integers(0, 400)))
    return [[number, _yuan(cents), str(days)]
            for number, (cents, days) in sorted(debtors.items())]


def _vip_card_rows(data: Draws, conn: Connection, day: date) -> list[list[str]]:
    contracts = list(conn.scalars(select(Customer.contract_number).order_by(Customer.id)))
    cards = {contract: data.draw(st.sampled_from([card.value for card in VipCard]), label="card")
             for contract in _some(data, contracts, "cards changed")}
    return [[contract, card] for contract, card in cards.items()]


def _revenue_rows(data: Draws, conn: Connection, day: date) -> list[list[str]]:
    """Every line's revenue and traffic of the latest complete month, as billing sends
    them monthly (revised, if sent before); a tenth of the lines without traffic."""
    month, rng = report_month(day).strftime("%Y-%m"), random.Random(data.draw(INDEX, label="seed"))
    rows = []
    for number in _numbers(conn):
        amounts = [0] * 10 if rng.random() < 0.1 else [rng.randrange(40_000) for _ in range(10)]
        rows.append([number, month, *map(_yuan, amounts[:5]), *map(str, amounts[5:])])
    return rows


def _key_account_rows(data: Draws, conn: Connection, day: date) -> list[list[str]]:
    """The complete key-account list: today's, with a few customers added or dropped."""
    accounts = {row.contract_number: [row.contract_number, row.key_account_code,
                                      row.account_manager or ""]
                for row in conn.execute(select(Customer.contract_number,
                                               Customer.key_account_code,
                                               Customer.account_manager)
                                        .where(Customer.key_account_code.is_not(None)))}
    contracts = list(conn.scalars(select(Customer.contract_number).order_by(Customer.id)))
    for contract in _some(data, contracts, "key accounts changed"):
        if data.draw(st.booleans(), label="dropped"):
            accounts.pop(contract, None)
        else:
            accounts[contract] = [contract, f"KA{contract}", "客户经理"]
    return sorted(accounts.values())


def _line_plant_rows(data: Draws, conn: Connection, day: date) -> list[list[str]]:
    """A few lines on another junction box (their community may change)."""
    boxes = list(conn.scalars(select(JunctionBox.code).order_by(JunctionBox.code)))
    rows = {number: [number, _pick(data, boxes, "box")]
            for number in _some(data, _numbers(conn), "lines moved")}
    return list(rows.values())


def _remapped(data: Draws, conn: Connection, model: Any, key: Any,
              label: str) -> list[list[str]]:
    """A few junction boxes or number segments (``model``, by ``key`` columns) mapped to
    another community."""
    community = aliased(OrgUnit)
    mapped = conn.execute(select(*key, BillingArea.code, community.code)
                          .join(BillingArea, BillingArea.id == model.billing_area_id)
                          .join(community, community.id == model.community_id)
                          .order_by(*key)).all()
    communities = list(conn.scalars(select(OrgUnit.code).where(
        OrgUnit.kind == OrgKind.COMMUNITY).order_by(OrgUnit.code)))
    rows = {tuple(row[:-1]): [*row[:-1], _pick(data, communities, "community")]
            for row in _some(data, mapped, label)}
    return list(rows.values())


ROWS: dict[str, Callable[[Draws, Connection, date], list[list[str]]]] = {
    "subscribers": _subscriber_rows,
    "arrears": _arrears_rows,
    "vip-cards": _vip_card_rows,
    "revenue": _revenue_rows,
    "key-accounts": _key_account_rows,
    "line-plant": _line_plant_rows,
    "junction-boxes": lambda data, conn, day: _remapped(
        data, conn, JunctionBox, [JunctionBox.code], "boxes remapped"),
    "number-segments": lambda data, conn, day: _remapped(
        data, conn, NumberSegment, [NumberSegment.range_start, NumberSegment.range_end],
        "segments remapped"),
}


@dataclass
class Province:
    """The demo province and its calendar: examples share it, so days only move on."""

    engine: Engine
    folder: Path
    day: date = AS_OF
    files: Iterator[int] = field(default_factory=count)
    #: What the current example did; the draws of the example that failed, and why.
    log: list[str] = field(default_factory=list)
    failed: tuple[list[tuple[st.SearchStrategy[Any], str | None]], Exception] | None = None

    def state(self) -> State:
        with self.engine.connect() as conn:
            return stored_state(conn)

    def change(self, data: Draws, feed: str) -> None:
        """Import random changes of ``feed``, as the feed's own file."""
        with self.engine.connect() as conn:
            rows = ROWS[feed](data, conn, self.day)
        self.log.append(f"{self.day}: {feed} rows {rows if len(rows) < 10 else len(rows)}")
        path = feed_file(self.folder, feed, rows, name=f"{next(self.files)}-{feed}.csv")
        result = import_file(self.engine, FEEDS[feed], path)
        assert result.status == "ok", (feed, result.message, result.errors)
        self.log.append(f"{self.day}: {result.summary()}")

    def days_on(self, data: Draws) -> int:
        """A few days, up to 45, to the 1st of the next month, or exactly to the next day a
        customer is due (or the eve of it: nothing may change before that day)."""
        how = data.draw(st.sampled_from(["few", "many", "month", "eve of due", "due"]),
                        label="days on")
        if how in ("few", "many"):
            return data.draw(st.integers(0, 7 if how == "few" else 45), label="days")
        if how == "month":
            return (add_months(self.day, 1) - self.day).days
        with self.engine.connect() as conn:
            due = conn.scalar(select(func.min(Customer.due_on)))
        assert due is not None and due > self.day, "every customer due by now was evaluated"
        return (due - self.day).days - (how == "eve of due")

    def run(self, kind: RunKind) -> ClassificationRun:
        run = reclassify(db.session, kind, self.day)
        assert run.status == RunStatus.FINISHED, run.detail
        self.log.append(f"{self.day}: {kind} run: {run.customers} customers, changes {run.changes}")
        return run


@pytest.fixture
def province(app: Flask, engine: Engine, tmp_path: Path) -> Province:
    _demo(app, 40)  # classified by a full run on AS_OF
    return Province(engine, tmp_path)


def _example(province: Province, data: Draws) -> None:
    """Random changes and days with their runs, then the full run on the last day."""
    for _ in range(data.draw(st.integers(1, 5), label="steps")):
        for feed in data.draw(st.lists(st.sampled_from(sorted(ROWS)), max_size=3, unique=True),
                              label="feeds"):
            province.change(data, feed)
        if data.draw(st.booleans(), label="changed run first"):
            province.run(RunKind.CHANGED)
        province.day += timedelta(days=province.days_on(data))
        province.run(RunKind.DUE)
    incremental = province.state()
    full = province.run(RunKind.FULL)
    fresh = province.state()
    assert_no_open_alert_twice(incremental)
    assert incremental.differences(fresh) == {}
    assert (full.changes.get("decisions", 0), full.changes.get("alerts raised", 0),
            full.changes.get("alerts cleared", 0)) == (0, 0, 0)
    late = {customer: (day, fresh.due[customer]) for customer, day in incremental.due.items()
            if day is None or (fresh.due[customer] is not None and day > fresh.due[customer])}
    assert not late, f"due later than a full run says (stored, full): {late}"


def test_incremental_runs_day_by_day_store_what_a_full_run_on_the_last_day_would(
        province: Province) -> None:
    """Examples share the database and the calendar, so hypothesis cannot replay one that
    failed by running it again: the replay makes the same draws and raises its failure."""

    @settings(max_examples=8, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def examples(data: st.DataObject) -> None:
        if province.failed is not None:
            draws, failure = province.failed
            for strategy, label in draws:
                data.draw(strategy, label=label)
            note("\n".join(province.log))
            raise failure
        province.log.clear()
        draws = Draws(data)
        try:
            _example(province, draws)
        except Exception as failure:
            province.failed = draws.made, failure
            raise

    examples()
