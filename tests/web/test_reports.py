"""The fixed reports against independent counts on the demo province (raw SQL, rolled up
here), org scope, drill-down, exports equal to the page, bad parameters, and the
summaries following a run."""

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, select, text

from engine.domain import RunKind
from engine.months import add_months
from tests.web.lists import (
    AS_OF,
    SCOPED,
    Province,
    classified_province,
    communities_seen_by,
    csv_table,
    same_cell,
    signed_in,
    xlsx_table,
)
from tests.web.report_pages import ShownTable, amount, number, shown_table
from webapp.database import db
from webapp.models import (
    Customer,
    CustomerGroup,
    GroupType,
    StaffUser,
    customer_group_member,
)
from webapp.models.changes import mark_changed
from webapp.pipeline.adjust import Policy, move_customers
from webapp.pipeline.arrivals import destinations
from webapp.pipeline.locks import RUN_LOCK, exclusive
from webapp.pipeline.runs import reclassify
from webapp.reports.refresh import refresh_now
from webapp.scope import scope_of

TODAY = date.fromisoformat(AS_OF)
#: The report month (latest complete one) and the stock report's 13 months.
THIS = date(2026, 10, 1)
MONTHS = [add_months(THIS, offset - 12) for offset in range(13)]
GONE = ("disconnected", "closed")
LEVELS = ("city", "centre", "department", "area", "community")
STATUSES = ("active", "suspended", "suspended_keep_number", "disconnected", "closed")


@pytest.fixture(scope="module")
def province(app: Flask) -> Iterator[Province]:
    """The classified demo province with three customer groups, summarised by a
    *changed* run that evaluated their members (the way a membership change reaches the
    reports)."""
    steps = classified_province(app)
    found = next(steps)
    try:
        yield _with_groups(found)
    finally:
        next(steps, None)


def _with_groups(found: Province) -> Province:
    seen = communities_seen_by(found.department)
    homes = _homes()
    members = {
        "写字楼甲": sorted(homes)[:12],
        "本部门园区": sorted(code for code, home in homes.items() if home in seen)[:5],
        "空的小区": [],
    }
    building = GroupType(code="building", name="楼宇")
    db.session.add(building)
    db.session.flush()
    ids = dict(db.session.execute(select(Customer.code, Customer.id)).all())
    for name, codes in members.items():
        group = CustomerGroup(name=name, group_type_id=building.id)
        db.session.add(group)
        db.session.flush()
        for code in codes:
            db.session.execute(insert(customer_group_member).values(group_id=group.id,
                                                                    customer_id=ids[code]))
    mark_changed(db.session.connection(), "customer",
                 select(customer_group_member.c.customer_id), datetime.now(UTC))
    db.session.commit()
    run = reclassify(db.session, RunKind.CHANGED, TODAY)
    assert run.customers == len({code for codes in members.values() for code in codes})
    _refresh()
    return found


def _refresh() -> list[str]:
    """What the scheduler's *reports* job does after runs: refresh the stale summaries."""
    return refresh_now(db.session, TODAY, ZoneInfo("Asia/Shanghai")) or []


# ---- independent counts: raw SQL, rolled up here ----------------------------------------

def _raw(sql: str, **params: object) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(text(sql), params)]


def _lines() -> list[tuple[int, int, str, str, date]]:
    """(line, customer code's id, community, status, install date) of every line."""
    return [(line, customer, community, status, date.fromisoformat(str(installed)[:10]))
            for line, customer, community, status, installed in _raw(
                "SELECT s.id, s.customer_id, d.value, s.status, s.install_date "
                "FROM subscriber s JOIN subscriber_decision d ON d.subscriber_id = s.id "
                "AND d.attribute = 'community'")]


def _homes() -> dict[str, str]:
    """Customer code → the lowest community among its lines."""
    homes: dict[str, str] = {}
    for code, community in _raw(
            "SELECT c.code, d.value FROM customer c JOIN subscriber s ON s.customer_id = c.id "
            "JOIN subscriber_decision d ON d.subscriber_id = s.id "
            "AND d.attribute = 'community'"):
        homes[code] = min(homes.get(code, community), community)
    return homes


def _decision(attribute: str) -> dict[str, str]:
    return dict(_raw("SELECT c.code, d.value FROM customer c JOIN customer_decision d "
                     "ON d.customer_id = c.id WHERE d.attribute = :attribute",
                     attribute=attribute))


class _Tree:
    def __init__(self) -> None:
        rows = _raw("SELECT u.code, u.name, u.kind, p.code, u.channel, "
                    "u.unassigned_billing_area_id FROM org_unit u "
                    "LEFT JOIN org_unit p ON p.id = u.parent_id")
        self.kind = {code: kind for code, _, kind, _, _, _ in rows}
        self.parent = {code: parent for code, _, _, parent, _, _ in rows}
        self.channel = {code: channel for code, _, _, _, channel, _ in rows}
        self.unassigned = {code for code, _, _, _, _, area in rows if area is not None}

    def up(self, code: str, level: str) -> str:
        """The unit of ``level`` above ``code`` (an unassigned community below the city
        level: itself)."""
        unit: str | None = code
        while unit is not None and self.kind[unit] != level:
            unit = self.parent[unit]
        if unit is None and code in self.unassigned:
            return code
        assert unit is not None
        return unit


def _population(level: str, dimension: str, measure: str,
                communities: set[str] | None = None) -> Counter[tuple[str, str]]:
    tree, values = _Tree(), _decision(dimension)
    counts: Counter[tuple[str, str]] = Counter()
    if measure == "customers":
        for code, home in _homes().items():
            if communities is None or home in communities:
                counts[tree.up(home, level), values.get(code, "")] += 1
    else:
        codes = dict(_raw("SELECT id, code FROM customer"))
        for _, customer, community, _, _ in _lines():
            if communities is None or community in communities:
                counts[tree.up(community, level), values.get(codes[customer], "")] += 1
    return counts


def _revenue() -> dict[tuple[int, date], int]:
    """(line, month) → revenue in cents, of every revenue row."""
    return {(line, date.fromisoformat(str(month)[:10])): total for line, month, total in _raw(
        "SELECT subscriber_id, month, local_revenue_cents + long_distance_revenue_cents "
        "+ international_revenue_cents + data_revenue_cents + value_added_revenue_cents "
        "FROM subscriber_month")}


# ---- pages --------------------------------------------------------------------------------

def _get(client: FlaskClient, url: str, key: str) -> ShownTable:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    return shown_table(response.get_data(as_text=True), key)


@pytest.mark.parametrize("level", ["city", "department", "community"])
@pytest.mark.parametrize(("dimension", "measure"), [
    ("statistical_attribute", "customers"), ("service_tier", "subscribers")])
def test_population_counts_match_sql(app: Flask, province: Province, level: str,
                                     dimension: str, measure: str) -> None:
    table = _get(signed_in(app, "viewer"),
                 f"/reports/population?level={level}&by={dimension}&measure={measure}",
                 "population")
    expected = _population(level, dimension, measure)
    values = table.header[2:-1]
    assert {(row[0], value if value != "(not decided)" else "", number(cell))
            for row in table.rows for value, cell in zip(values, row[2:-1], strict=True)
            if number(cell)} == {(unit, value, count) for (unit, value), count in expected.items()}
    assert {row[0]: number(row[-1]) for row in table.rows} == {
        unit: sum(count for (other, _), count in expected.items() if other == unit)
        for unit, _ in expected}


def test_population_drills_down_from_a_city(app: Flask, province: Province) -> None:
    client = signed_in(app, "analyst")
    cities = _get(client, "/reports/population", "population")
    city, link = cities.rows[0][0], cities.drills[0]
    assert link is not None and f"unit={city}" in link and "level=centre" in link
    centres = _get(client, link, "population")
    tree = _Tree()
    expected = _population("centre", "statistical_attribute", "customers",
                           {code for code, kind in tree.kind.items()
                            if kind == "community" and tree.up(code, "city") == city})
    assert {row[0]: number(row[-1]) for row in centres.rows} == {
        unit: sum(count for (other, _), count in expected.items() if other == unit)
        for unit, _ in expected}
    assert sum(number(row[-1]) for row in centres.rows) == number(cities.rows[0][-1])


def test_a_scoped_manager_sees_only_their_part(app: Flask, province: Province) -> None:
    client = signed_in(app, SCOPED)
    seen = communities_seen_by(province.department)
    table = _get(client, "/reports/population?level=community&measure=subscribers",
                 "population")
    assert {row[0] for row in table.rows} <= seen
    expected = _population("community", "statistical_attribute", "subscribers", seen)
    assert {row[0]: number(row[-1]) for row in table.rows} == {
        unit: sum(count for (other, _), count in expected.items() if other == unit)
        for unit, _ in expected}
    outside = next(code for code, kind in _Tree().kind.items()
                   if kind == "department" and code != province.department
                   and not (communities_seen_by(code) & seen))
    response = client.get(f"/reports/rules?unit={outside}")
    assert response.status_code == 400
    assert "unit: outside your org scope" in response.get_data(as_text=True)
    groups = _get(client, "/reports/groups", "groups")
    assert [row[0] for row in groups.rows] == sorted(
        name for name, counts in _groups(seen).items() if counts[0] or counts[1])


def _division(communities: set[str] | None = None) -> dict[tuple[str, str], tuple[int, int]]:
    """(channel, department or city) → (arrived, still waiting) of this month's arrivals
    counted in ``communities``: the unassigned one they wait in, else their home."""
    tree = _Tree()
    start = datetime(2026, 10, 31, 16, tzinfo=UTC)  # 1 November in Shanghai
    arrived = {customer for customer, created in _raw("SELECT id, created_at FROM customer")
               if _aware(created) >= start}
    by_customer: dict[int, set[str]] = defaultdict(set)
    for _, customer, community, _, _ in _lines():
        if customer in arrived:
            by_customer[customer].add(community)
    counts: Counter[tuple[str, str, bool]] = Counter()
    for communities_of in by_customer.values():
        waiting = sorted(communities_of & tree.unassigned)
        counted_in = waiting[0] if waiting else min(communities_of)
        if communities is not None and counted_in not in communities:
            continue
        if waiting:
            counts[tree.channel[counted_in], tree.parent[counted_in], True] += 1
        else:
            department = tree.up(counted_in, "department")
            counts[tree.channel[department], department, False] += 1
    return {(channel, unit): (count, count if waiting else 0)
            for (channel, unit, waiting), count in counts.items()}


def _aware(moment: object) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    assert isinstance(moment, datetime)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _division_shown(client: FlaskClient) -> dict[tuple[str, str], tuple[int, int]]:
    table = _get(client, "/reports/division", "division")
    return {(row[0], row[1]): (number(row[3]), number(row[4])) for row in table.rows}


@pytest.mark.parametrize("username", ["auditor", SCOPED])
def test_division_progress_matches_sql(app: Flask, province: Province, username: str) -> None:
    table = _get(signed_in(app, username), "/reports/division", "division")
    seen = communities_seen_by(province.department) if username == SCOPED else None
    assert _division_shown(signed_in(app, username)) == _division(seen)
    # The window of the demo's day (23 November) closes on 3 December: 11 days left.
    assert {row[5] for row in table.rows} == {"11"}


def _stock(communities: set[str] | None = None) -> list[list[str]]:
    """The stock report's rows, worked out line by line."""
    revenue = _revenue()
    last_billed: dict[int, date] = {}
    for (line, month), cents in revenue.items():
        if cents > 0:
            last_billed[line] = max(last_billed.get(line, month), month)
    rows = []
    lines = [line for line in _lines() if communities is None or line[2] in communities]
    left = {}
    for line, _, _, status, installed in lines:
        if status in GONE:
            left[line] = add_months(last_billed[line], 1) if line in last_billed \
                else installed.replace(day=1)
    for month in MONTHS:
        end = add_months(month, 1)
        installed = sum(1 for line in lines if month <= line[4] < end)
        gone = sum(1 for line in lines if line[0] in left and left[line[0]] == month
                   and line[4] < add_months(THIS, 1))
        closing = Counter(status for line, _, _, status, day in lines
                          if day < end and not (line in left and left[line] <= month))
        ids = {line[0] for line in lines}
        month_rows = [cents for (line, at), cents in revenue.items()
                      if at == month and line in ids]
        rows.append([month.strftime("%Y-%m"), str(installed), str(gone), str(installed - gone),
                     str(sum(closing.values())), *(str(closing[status]) for status in STATUSES),
                     str(len(month_rows)), f"{Decimal(sum(month_rows)) / 100:.2f}"])
    return rows


@pytest.mark.parametrize("username", ["analyst", SCOPED])
def test_stock_matches_a_line_by_line_count(app: Flask, province: Province,
                                            username: str) -> None:
    seen = communities_seen_by(province.department) if username == SCOPED else None
    table = _get(signed_in(app, username), "/reports/stock", "months")
    shown = [[cell.replace(",", "") for cell in row] for row in table.rows]
    assert shown == _stock(seen)
    assert sum(int(row[2]) for row in shown) > 0  # the demo has disconnections to count


def test_stock_per_unit_adds_up(app: Flask, province: Province) -> None:
    client = signed_in(app, "viewer")
    months = _get(client, "/reports/stock", "months")
    units = _get(client, "/reports/stock?level=department", "units")
    assert sum(number(row[5]) for row in units.rows) == number(months.rows[-1][4])
    assert sum(number(row[2]) for row in units.rows) == sum(number(row[1])
                                                           for row in months.rows)


def _groups(communities: set[str] | None = None) -> dict[str, tuple[int, int, int, int]]:
    """Group name → (customers, lines, revenue of the report month, of the month before)."""
    homes, revenue = _homes(), _revenue()
    found: dict[str, list[int]] = {}
    for name, in _raw("SELECT name FROM customer_group"):
        found[name] = [0, 0, 0, 0]
    codes = dict(_raw("SELECT id, code FROM customer"))
    members = _raw("SELECT g.name, m.customer_id FROM customer_group g "
                   "JOIN customer_group_member m ON m.group_id = g.id")
    lines = _lines()
    for name, customer in members:
        if communities is None or homes[codes[customer]] in communities:
            found[name][0] += 1
        for line, owner, community, _, _ in lines:
            if owner == customer and (communities is None or community in communities):
                found[name][1] += 1
                found[name][2] += revenue.get((line, THIS), 0)
                found[name][3] += revenue.get((line, add_months(THIS, -1)), 0)
    return {name: (a, b, c, d) for name, (a, b, c, d) in found.items()}


@pytest.mark.parametrize("username", ["auditor", SCOPED])
def test_groups_match_sql(app: Flask, province: Province, username: str) -> None:
    seen = communities_seen_by(province.department) if username == SCOPED else None
    table = _get(signed_in(app, username), "/reports/groups", "groups")
    expected = {name: counts for name, counts in _groups(seen).items()
                if seen is None or counts[0] or counts[1]}
    assert {row[0]: (number(row[2]), number(row[3]), amount(row[4]), amount(row[5]),
                     amount(row[6])) for row in table.rows} == {
        name: (a, b, f"{Decimal(c) / 100:.2f}", f"{Decimal(d) / 100:.2f}",
               f"{Decimal(c - d) / 100:.2f}") for name, (a, b, c, d) in expected.items()}
    assert table.header[4] == "Revenue of 2026-10 (yuan)"


@pytest.mark.parametrize("username", ["admin", SCOPED])
def test_rule_activity_matches_sql(app: Flask, province: Province, username: str) -> None:
    seen = communities_seen_by(province.department) if username == SCOPED else None
    # The log's rows are written at the real time of the runs: count the 30 days to it.
    frozen, app.config["FROZEN_NOW"] = app.config["FROZEN_NOW"], datetime.now(UTC)
    try:
        table = _get(signed_in(app, username), "/reports/rules", "rules")
    finally:
        app.config["FROZEN_NOW"] = frozen
    homes = dict(_raw("SELECT c.id, MIN(d.value) FROM customer c JOIN subscriber s "
                      "ON s.customer_id = c.id JOIN subscriber_decision d "
                      "ON d.subscriber_id = s.id AND d.attribute = 'community' GROUP BY c.id"))
    line_of = dict(_raw("SELECT subscriber_id, value FROM subscriber_decision "
                        "WHERE attribute = 'community'"))
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for ruleset, rule, customer in _raw(
            "SELECT ruleset_name, rule_id, customer_id FROM customer_decision "
            "WHERE source = 'rule'"):
        if seen is None or homes.get(customer) in seen:
            expected[f"{ruleset}/{rule}"][0] += 1
    for ruleset, rule, line in _raw(
            "SELECT ruleset_name, rule_id, subscriber_id FROM subscriber_decision "
            "WHERE source = 'rule'"):
        if seen is None or line_of.get(line) in seen:
            expected[f"{ruleset}/{rule}"][1] += 1
    for ruleset, rule, customer, line in _raw(
            "SELECT ruleset_name, rule_id, customer_id, subscriber_id FROM adjustment_log "
            "WHERE rule_id IS NOT NULL"):
        community = line_of.get(line) if line is not None else homes.get(customer)
        if seen is None or community in seen:
            expected[f"{ruleset}/{rule}"][2] += 1
    shown = {row[1]: [number(row[3]), number(row[4]), number(row[5])] for row in table.rows}
    assert {rule: counts for rule, counts in shown.items() if any(counts)} == dict(expected)
    assert "service_tier/mid_high_end" in shown and "alerts" not in {
        row[0] for row in table.rows}


REPORT_TABLES = [
    ("/reports/population?level=department&by=service_tier", "population"),
    ("/reports/division", "division"),
    ("/reports/stock", "months"),
    ("/reports/stock?table=units&level=area", "units"),
    ("/reports/groups", "groups"),
    ("/reports/rules", "rules"),
]


def _plain(cell: str) -> str:
    """A page's cell as an export writes it: numbers without thousands separators."""
    return cell.replace(",", "") if re.fullmatch(r"-?[\d,]+(\.\d+)?", cell) else cell


@pytest.mark.parametrize(("url", "key"), REPORT_TABLES)
def test_exports_hold_the_page(app: Flask, province: Province, url: str, key: str) -> None:
    client = signed_in(app, SCOPED)
    page = _get(client, url, key)
    assert page.rows
    joiner = "&" if "?" in url else "?"
    exported = csv_table(client.get(f"{url}{joiner}format=csv"))
    assert exported.header == page.header
    assert [[_plain(cell) for cell in row] for row in page.rows] == exported.rows
    header, rows = xlsx_table(client.get(f"{url}{joiner}format=xlsx"))
    assert header == page.header
    assert len(rows) == len(page.rows)
    for shown, stored in zip(page.rows, rows, strict=True):
        assert all(same_cell(_plain(cell), value)
                   for cell, value in zip(shown, stored, strict=True)), (shown, stored)


@pytest.mark.parametrize(("query", "field"), [
    ("level=bogus", "level"),
    ("by=marketing", "by"),
    ("measure=' OR 1=1", "measure"),
    ("unit=NOPE", "unit"),
    ("unit=<script>alert(1)</script>", "unit"),
    ("unit=" + "A" * 10_000, "unit"),
    ("colour=red", "colour"),
])
def test_bad_parameters_answer_400_naming_the_field(app: Flask, province: Province,
                                                    query: str, field: str) -> None:
    client = signed_in(app, "viewer")
    page = client.get(f"/reports/population?{query}")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert f"<li>{field}: " in html and "<script>alert" not in html
    export = client.get(f"/reports/population?{query}&format=csv")
    assert export.status_code == 400 and field in export.get_json()["errors"]


def test_bad_format_and_table_answer_400(app: Flask, province: Province) -> None:
    client = signed_in(app, "viewer")
    assert client.get("/reports/rules?format=pdf").get_json()["errors"] == {
        "format": ["must be one of: csv, xlsx"]}
    assert "table" in client.get("/reports/stock?table=x&format=csv").get_json()["errors"]
    assert client.get("/reports/division?level=city").status_code == 400


def test_the_summary_follows_a_run_not_the_page(app: Flask, province: Province) -> None:
    """It changes the province (so it comes late in the module). A customer gets a diamond card; the
    report keeps its summary until the next run, which re-evaluates and refreshes it."""
    client = signed_in(app, "admin")
    url = "/reports/population?level=city&by=service_tier"
    before = _get(client, url, "population")
    homes, tiers = _homes(), _decision("service_tier")
    code = next(code for code in sorted(homes) if tiers.get(code) == "standard")
    city = _Tree().up(homes[code], "city")
    db.session.execute(text("UPDATE customer SET vip_card = 'diamond' WHERE code = :code"),
                       {"code": code})
    mark_changed(db.session.connection(), "customer",
                 select(Customer.id).where(Customer.code == code), datetime.now(UTC))
    db.session.commit()
    assert _get(client, url, "population").rows == before.rows
    reclassify(db.session, RunKind.CHANGED, TODAY)
    # A run leaves the summaries alone (it must cost what changed); the refresh follows.
    assert _get(client, url, "population").rows == before.rows
    assert set(_refresh()) == {"population", "division", "groups", "rules"}
    assert _refresh() == []
    after = _get(client, url, "population")
    column = {title: index for index, title in enumerate(after.header)}
    old = {row[0]: row for row in before.rows}[city]
    new = {row[0]: row for row in after.rows}[city]
    diamonds = number(old[before.header.index("diamond")]) if "diamond" in before.header \
        else 0
    assert number(new[column["diamond"]]) == diamonds + 1
    assert number(new[column["standard"]]) == number(old[before.header.index("standard")]) - 1
    assert number(new[-1]) == number(old[-1])


def test_a_manual_move_reaches_the_report_with_the_next_run(app: Flask,
                                                            province: Province) -> None:
    """A move writes its log rows at once and queues nothing: the next *changed* run,
    with nothing to evaluate, still finds them and refreshes the summaries."""
    client = signed_in(app, SCOPED)
    url = "/reports/population?level=community&measure=subscribers"
    before = _get(client, url, "population")
    manager = db.session.scalar(select(StaffUser).where(StaffUser.username == SCOPED))
    scope = scope_of(db.session.connection(), manager)
    seen = communities_seen_by(province.department)
    code = next(code for code, home in sorted(_homes().items())
                if home in seen and home.startswith("UA-"))
    target = destinations(db.session.connection(), scope)[0][0]
    report = move_customers(db.session, manager, [(1, code)], target, "现场核实",
                            app.config["FROZEN_NOW"], Policy.from_config(app.config))
    assert report.moved == 1 and not report.problems
    assert _get(client, url, "population").rows == before.rows
    waiting = sum(shown[1] for shown in _division_shown(client).values())
    run = reclassify(db.session, RunKind.CHANGED, TODAY)
    assert run.customers == 0
    assert "population" in _refresh()
    assert _division_shown(client) == _division(seen)
    assert sum(shown[1] for shown in _division_shown(client).values()) == waiting - 1
    after = _get(client, url, "population")
    assert after.rows != before.rows
    expected = _population("community", "statistical_attribute", "subscribers", seen)
    assert {row[0]: number(row[-1]) for row in after.rows} == {
        unit: sum(count for (other, _), count in expected.items() if other == unit)
        for unit, _ in expected}


def test_the_scheduler_refresh_gives_way_to_a_run(app: Flask, province: Province) -> None:
    """The *reports* job does not wait for a run holding the run lock: it skips, and the
    next one catches up."""
    with exclusive(db.engine, RUN_LOCK):
        assert refresh_now(db.session, TODAY, ZoneInfo("Asia/Shanghai"), wait=False) is None
    assert refresh_now(db.session, TODAY, ZoneInfo("Asia/Shanghai"), wait=False) is not None


def test_the_division_summary_starts_again_when_the_month_turns(app: Flask,
                                                                 province: Province) -> None:
    """On the first of a month no customer has arrived yet: the first *reports* job of
    the month refreshes the division summary even though nothing was run or logged."""
    client = signed_in(app, "auditor")
    zone = ZoneInfo("Asia/Shanghai")
    assert _refresh() == []
    assert _division_shown(client)
    try:
        # The demo's customers were created when the test database was built: choose a
        # month after that.
        assert set(refresh_now(db.session, date(2027, 2, 1), zone) or []) \
            == {"division", "stock"}
        assert _division_shown(client) == {}
        assert "Arrivals of 2027-02" in client.get("/reports/division").get_data(as_text=True)
    finally:
        refresh_now(db.session, TODAY, zone)
    assert _division_shown(client) == _division()
