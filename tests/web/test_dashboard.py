"""The dashboard (home page): its figures against counts made here in plain SQL and
Python, the org scope, and "run now" for admins."""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, text

from engine.domain import ClassifiedAttribute, RunKind, RunStatus, StaffRole
from tests.test_launch import wait_for_run
from tests.test_pipeline import AS_OF, _demo
from tests.web.conftest import csrf_token, login
from tests.web.helpers import alerts, redirect_target
from webapp.audit import chain
from webapp.clock import today
from webapp.dashboard.figures import CHANGE_DAYS, daily_changes
from webapp.database import db
from webapp.models import ClassificationRun, Customer, OrgUnit, StaffUser
from webapp.pipeline.locks import RUN_LOCK, exclusive
from webapp.scope import Scope, scope_of

DISTRIBUTED = ("statistical_attribute", "service_tier", "lifecycle_stage")


@dataclass
class ChartTable:
    """A chart's table as the page shows it: series keys, and per row label the numbers
    of the series (``data-value``)."""

    series: list[str] = field(default_factory=list)
    rows: dict[str, list[int]] = field(default_factory=dict)

    def column(self, key: str) -> dict[str, int]:
        index = self.series.index(key)
        return {label: values[index] for label, values in self.rows.items()}


class _Page(HTMLParser):
    """The chart tables (by canvas id) and the runs (id → status) of the dashboard."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, ChartTable] = {}
        self.runs: dict[int, str] = {}
        self._table: ChartTable | None = None
        self._label: list[str] | None = None
        self._row: list[int] | None = None
        self._row_label = ""
        self._run: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "table" and "data-chart" in attr:
            self._table = self.tables.setdefault(attr["data-canvas"], ChartTable())
        elif tag == "th" and self._table is not None and "data-series" in attr:
            self._table.series.append(attr["data-series"])
        elif tag == "tr" and "data-run" in attr:
            self._run = int(attr["data-run"])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag == "th" and attr.get("scope") == "row" and self._row is not None:
            self._label = []
        elif tag == "td" and self._row is not None and "data-value" in attr:
            self._row.append(int(attr["data-value"]))
        elif tag == "td" and self._run is not None and "data-status" in attr:
            self.runs[self._run] = attr["data-status"]

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self._label.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "th" and self._label is not None and self._row is not None:
            self._row_label = "".join(self._label).strip()
            self._label = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            if self._row:
                self._table.rows[self._row_label] = self._row
            self._row = None
        elif tag == "tr":
            self._run = None
        elif tag == "table":
            self._table = None


def read_page(html: str) -> _Page:
    parser = _Page()
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture
def manager_of(app: Flask, create_user: Callable[..., StaffUser]
               ) -> Callable[[str], FlaskClient]:
    """``manager_of(org_code)``: a client signed in as a channel manager of that unit."""
    def sign_in(code: str) -> FlaskClient:
        user = create_user(StaffRole.CHANNEL_MANAGER, f"manager-{code.lower()}")
        user.org_unit_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code))
        db.session.commit()
        client = app.test_client()
        login(client, user.username)
        return client
    return sign_in


# -- counts made independently of webapp.dashboard: plain SQL, filtered in Python ------

def _customers_in(scope: Scope) -> set[int] | None:
    """Ids of the customers with a line in one of the scope's communities (None: all)."""
    if scope.communities is None:
        return None
    rows = db.session.execute(text(
        "SELECT s.customer_id, d.value FROM subscriber s JOIN subscriber_decision d "
        "ON d.subscriber_id = s.id WHERE d.attribute = 'community'")).all()
    return {customer for customer, community in rows if community in scope.communities}


def _counted(customers: set[int] | None, customer: int) -> bool:
    return customers is None or customer in customers


def _line_owners() -> dict[int, int]:
    return dict(db.session.execute(text("SELECT id, customer_id FROM subscriber")).all())


def expected_distribution(attribute: str, customers: set[int] | None) -> dict[str, int]:
    rows = db.session.execute(text(
        "SELECT customer_id, value FROM customer_decision WHERE attribute = :attribute"),
        {"attribute": attribute}).all()
    return dict(Counter(value for customer, value in rows if _counted(customers, customer)))


def expected_alerts(customers: set[int] | None) -> dict[tuple[str, str], int]:
    owners = _line_owners()
    rows = db.session.execute(text(
        "SELECT customer_id, subscriber_id, alert_type, severity FROM alert "
        "WHERE cleared_at IS NULL")).all()
    return dict(Counter((alert_type, severity) for customer, line, alert_type, severity in rows
                        if _counted(customers, customer if customer is not None
                                    else owners[line])))


def expected_changes(customers: set[int] | None, last_day: date, zone: ZoneInfo
                     ) -> dict[tuple[date, str], int]:
    owners = _line_owners()
    first_day = last_day - timedelta(days=CHANGE_DAYS - 1)
    counts: Counter[tuple[date, str]] = Counter()
    for logged_at, customer, line, attribute in db.session.execute(text(
            "SELECT logged_at, customer_id, subscriber_id, attribute FROM adjustment_log")):
        moment = logged_at if isinstance(logged_at, datetime) \
            else datetime.fromisoformat(logged_at)
        day = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone).date()
        owner = customer if customer is not None else owners[line]
        if first_day <= day <= last_day and _counted(customers, owner):
            counts[day, attribute] += 1
    return dict(counts)


def _nonzero(table: ChartTable) -> dict[tuple[str, str], int]:
    return {(label, key): value for label, values in table.rows.items()
            for key, value in zip(table.series, values, strict=True) if value}


def check_page(html: str, customers: set[int] | None, zone: ZoneInfo, last_day: date) -> None:
    page = read_page(html)
    for attribute in DISTRIBUTED:
        shown = page.tables[f"chart-{attribute}"].column("customers")
        assert shown == expected_distribution(attribute, customers), attribute
    assert _nonzero(page.tables["chart-alerts"]) == expected_alerts(customers)
    changes = page.tables["chart-changes"]
    assert len(changes.rows) == CHANGE_DAYS
    assert list(changes.rows)[-1] == last_day.isoformat()
    assert _nonzero(changes) == {(day.isoformat(), attribute): count for (day, attribute), count
                                 in expected_changes(customers, last_day, zone).items()}


# -- tests ---------------------------------------------------------------------------

def test_the_figures_are_the_counts_of_the_data(app: Flask, engine: Engine,
                                                client_as: Callable[[StaffRole], FlaskClient]
                                                ) -> None:
    _demo(app, 200)
    client = client_as(StaffRole.AUDITOR)
    html = client.get("/").get_data(as_text=True)
    assert "Figures of the whole province." in html
    check_page(html, None, ZoneInfo(app.config["TIMEZONE"]), today())
    page = read_page(html)
    assert sum(page.tables["chart-changes"].column("service_tier").values()) > 0
    assert page.tables["chart-alerts"].rows, "the demo raises alerts"
    customers = db.session.scalar(text("SELECT count(*) FROM customer"))
    lines = db.session.scalar(text("SELECT count(*) FROM subscriber"))
    assert f'data-testid="total-customers">{customers:,}<' in html
    assert f'data-testid="total-lines">{lines:,}<' in html
    runs = db.session.execute(text("SELECT id, status FROM classification_run")).all()
    assert page.runs == dict(runs)
    assert 'id="run-now"' not in html  # auditors may not start runs


def test_the_figures_of_a_channel_manager_are_those_of_their_scope(
        app: Flask, engine: Engine, manager_of: Callable[[str], FlaskClient]) -> None:
    _demo(app, 200)
    client = manager_of("LZ")
    staff = db.session.scalar(select(StaffUser).where(StaffUser.username == "manager-lz"))
    scope = scope_of(db.session.connection(), staff)
    customers = _customers_in(scope)
    assert customers is not None
    total = db.session.scalar(text("SELECT count(*) FROM customer"))
    assert 0 < len(customers) < total
    html = client.get("/").get_data(as_text=True)
    assert "Figures of the customers in your part of the organisation." in html
    check_page(html, customers, ZoneInfo(app.config["TIMEZONE"]), today())
    assert f'data-testid="total-customers">{len(customers):,}<' in html
    again = client.get("/").get_data(as_text=True)  # the scope's temporary tables again
    assert read_page(again).tables == read_page(html).tables
    province = read_page(html).tables["chart-statistical_attribute"].column("customers")
    assert sum(province.values()) < sum(expected_distribution(
        "statistical_attribute", None).values())


def test_days_are_the_operators_whatever_the_time_zone(app: Flask, engine: Engine) -> None:
    """Rows around local midnight and across a daylight-saving change count on the
    operator's day; rows before the window or after today do not count."""
    db.session.add(Customer(code="C1", contract_number="1", name="someone"))
    db.session.commit()
    customer = db.session.scalar(select(Customer.id))
    berlin = ZoneInfo("Europe/Berlin")  # summer time ends 2026-10-25 03:00 → 02:00
    last_day = date(2026, 10, 26)
    moments = [datetime(2026, 10, 25, 23, 59, 59, tzinfo=berlin),  # 22:59:59 UTC
               datetime(2026, 10, 26, 0, 0, tzinfo=berlin),  # 23:00 UTC the day before
               datetime(2026, 10, 25, 1, 30, tzinfo=berlin),  # still summer time
               datetime(2026, 10, 24, 23, 30, tzinfo=berlin),
               datetime(2026, 10, 27, 0, 0, 1, tzinfo=berlin),  # after today
               datetime(2026, 7, 29, 0, 0, tzinfo=berlin),  # the first day of the window
               datetime(2026, 7, 28, 23, 59, tzinfo=berlin)]  # before the window
    chain.append(db.session.connection(), [
        {"logged_at": moment, "run_id": 1, "customer_id": customer,
         "attribute": ClassifiedAttribute.SERVICE_TIER, "old_value": None,
         "new_value": "gold"} for moment in moments])
    db.session.commit()
    figures = daily_changes(db.session.connection(), None, last_day, berlin)
    tier = ClassifiedAttribute.SERVICE_TIER
    counted = {day: figures.count(day, tier) for day in figures.days if figures.count(day, tier)}
    assert counted == {date(2026, 10, 24): 1, date(2026, 10, 25): 2, date(2026, 10, 26): 1,
                       date(2026, 7, 29): 1}
    assert figures.days[0] == date(2026, 7, 29) and len(figures.days) == CHANGE_DAYS
    assert counted == {day: count for (day, _), count in expected_changes(
        None, last_day, berlin).items()}


def _post_run(client: FlaskClient, kind: str | None) -> Any:
    token = csrf_token(client.get("/").get_data(as_text=True))
    data = {"csrf_token": token} if kind is None else {"csrf_token": token, "kind": kind}
    return client.post("/runs", data=data)


def _latest_run_id() -> int | None:
    with db.engine.connect() as conn:
        return conn.scalar(select(ClassificationRun.id).order_by(ClassificationRun.id.desc()))


@pytest.mark.parametrize("role", [role for role in StaffRole if role is not StaffRole.ADMIN])
def test_only_admins_may_start_a_run(app: Flask, engine: Engine, role: StaffRole,
                                     client_as: Callable[[StaffRole], FlaskClient]) -> None:
    client = client_as(role)
    assert 'id="run-now"' not in client.get("/").get_data(as_text=True)
    assert _post_run(client, "changed").status_code == 403
    assert _latest_run_id() is None


def test_an_admin_starts_a_run_and_sees_it_finish(app: Flask, engine: Engine,
                                                  client_as: Callable[[StaffRole], FlaskClient]
                                                  ) -> None:
    _demo(app, 80)
    client = client_as(StaffRole.ADMIN)
    assert 'id="run-now"' in client.get("/").get_data(as_text=True)
    before = _latest_run_id()
    response = _post_run(client, "full")
    assert redirect_target(response)[0] == "/"
    run_id = _latest_run_id()
    assert run_id is not None and run_id != before
    page = client.get("/").get_data(as_text=True)
    assert f"Run #{run_id} (full (everyone)) started." in alerts(page)
    status = client.get(f"/runs/{run_id}").get_json()
    assert (status["id"], status["kind"]) == (run_id, "full")
    assert status["status"] in ("running", "finished")
    assert status["started_at"].endswith("+00:00")
    run = wait_for_run(run_id)
    assert run.status is RunStatus.FINISHED and run.kind is RunKind.FULL
    assert client.get(f"/runs/{run_id}").get_json()["status"] == "finished"
    page = client.get("/").get_data(as_text=True)
    assert read_page(page).runs[run_id] == "finished"
    assert 'data-status-url' not in page  # nothing left to poll


def test_a_running_run_is_polled_by_the_page(app: Flask, engine: Engine,
                                             client_as: Callable[[StaffRole], FlaskClient]
                                             ) -> None:
    db.session.add(ClassificationRun(kind=RunKind.DUE, status=RunStatus.RUNNING, as_of=AS_OF,
                                     started_at=datetime.now(UTC), host="elsewhere", pid=1,
                                     customers=0, subscribers=0, changes={}, errors={}))
    db.session.commit()
    run_id = _latest_run_id()
    page = client_as(StaffRole.VIEWER).get("/").get_data(as_text=True)
    assert f'data-status-url="/runs/{run_id}"' in page
    assert read_page(page).runs == {run_id: "running"}


def test_a_run_is_refused_while_another_is_going(app: Flask, engine: Engine,
                                                 client_as: Callable[[StaffRole], FlaskClient]
                                                 ) -> None:
    client = client_as(StaffRole.ADMIN)
    with exclusive(engine, RUN_LOCK) as held:
        assert held
        response = _post_run(client, "changed")
    assert redirect_target(response)[0] == "/"
    assert alerts(client.get("/").get_data(as_text=True)) == [
        "A run is already in progress: start another one when it has finished."]
    assert _latest_run_id() is None


@pytest.mark.parametrize(("kind", "problem"), [
    (None, "kind: This field is required."),
    ("published", "kind: Not a valid choice."),
    ("everything", "kind: Not a valid choice."),
])
def test_a_bad_run_form_is_refused_with_the_field_and_why(
        app: Flask, engine: Engine, client_as: Callable[[StaffRole], FlaskClient],
        kind: str | None, problem: str) -> None:
    response = _post_run(client_as(StaffRole.ADMIN), kind)
    assert response.status_code == 400
    assert problem in response.get_data(as_text=True)
    assert _latest_run_id() is None


def test_the_status_of_a_run_that_does_not_exist_is_404(
        app: Flask, engine: Engine, client_as: Callable[[StaffRole], FlaskClient]) -> None:
    assert client_as(StaffRole.VIEWER).get("/runs/5").status_code == 404
