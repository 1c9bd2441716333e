"""Target lists: every list and filter against an independent count on the demo province,
org scope, exports, and bad query strings."""

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from flask import Flask
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import literal, select, update

from engine.domain import OrgKind, StatisticalAttribute
from tests.web.lists import (
    SCOPED,
    Province,
    Table,
    classified_province,
    communities_seen_by,
    communities_under,
    csv_table,
    customers_with_lines_in,
    every_page,
    same_cell,
    signed_in,
    xlsx_table,
)
from webapp import clock
from webapp.alerting.targets import CUSTOMER_LISTS, average_at_least
from webapp.database import db
from webapp.models import (
    Alert,
    BillingArea,
    Customer,
    CustomerDecision,
    OrgUnit,
    Subscriber,
    SubscriberMonth,
)
from webapp.rulesets.store import publish
from webapp.web.targets import CUSTOMER_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
ALERT_RULES = yaml.safe_load((ROOT / "rules" / "alerts.yaml").read_text("utf-8"))
#: Alert types of the default rules, read from the file (the app reads the database).
RULE_TYPES = list(dict.fromkeys(rule["then"]["type"] for rule in ALERT_RULES["rules"]))
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def province(app: Flask) -> Iterator[Province]:
    yield from classified_province(app)


def _codes(app: Flask, name: str, username: str = "viewer", **query: str) -> list[str]:
    """Customer codes of every page of the list ``name``."""
    return [row[0] for row in every_page(signed_in(app, username), f"/targets/{name}",
                                         query).rows]


def _all_customers() -> list[str]:
    return sorted(db.session.scalars(select(Customer.code)))


def _lines() -> list[tuple[str, int, str]]:
    """(customer code, line id, billing area code) of every line."""
    return list(db.session.execute(
        select(Customer.code, Subscriber.id, BillingArea.code)
        .join(Subscriber, Subscriber.customer_id == Customer.id)
        .join(BillingArea, BillingArea.id == Subscriber.billing_area_id)))


def test_the_index_offers_every_list_and_one_per_published_alert_type(
        app: Flask, province: Province) -> None:
    client = signed_in(app, "viewer")
    html = client.get("/targets/").get_data(as_text=True)
    for chosen in CUSTOMER_LISTS:
        assert f'href="/targets/{chosen.name}"' in html
    for kind in RULE_TYPES:
        assert f'href="/targets/{kind}"' in html
    assert "/targets/vip_watch" not in html
    document = {**ALERT_RULES, "rules": [*ALERT_RULES["rules"], {
        "id": "vip_watch", "title": "Watch", "when": {"fact": "status", "op": "eq",
                                                      "value": "active"},
        "then": {"type": "vip_watch", "severity": "green", "message": "Watch."}}]}
    publish(db.session, {"alerts.yaml": document}, datetime.now(UTC))
    db.session.commit()
    assert 'href="/targets/vip_watch"' in client.get("/targets/").get_data(as_text=True)
    assert client.get("/targets/vip_watch").status_code == 200
    assert client.get("/targets/no_such_list").status_code == 404
    assert client.get("/targets/no_such_list/export").status_code == 404


def test_by_region_city_and_billing_area(app: Flask, province: Province) -> None:
    lines = _lines()
    cities = dict(db.session.execute(select(BillingArea.code, OrgUnit.code).join(
        OrgUnit, OrgUnit.id == BillingArea.city_id)).all())
    area = lines[0][2]
    assert _codes(app, "by-region", billing_area=area) == sorted(
        {code for code, _line, line_area in lines if line_area == area})
    city = cities[area]
    expected = sorted({code for code, _line, line_area in lines if cities[line_area] == city})
    assert 0 < len(expected) < len(_all_customers())
    assert _codes(app, "by-region", city=city) == expected
    assert _codes(app, "by-region") == _all_customers()


def test_by_org_unit_takes_the_subtree(app: Flask, province: Province) -> None:
    department = province.department
    parent = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == department))
    area = db.session.scalar(select(OrgUnit.code).where(
        OrgUnit.kind == OrgKind.AREA, OrgUnit.parent_id == parent).order_by(OrgUnit.code))
    assert area is not None
    for code in (department, area):
        expected = sorted(customers_with_lines_in(communities_under(code)))
        assert expected, code
        assert _codes(app, "by-org-unit", org_unit=code) == expected


def _decided(attribute: str) -> dict[str, str]:
    return dict(db.session.execute(
        select(Customer.code, CustomerDecision.value)
        .join(CustomerDecision, CustomerDecision.customer_id == Customer.id)
        .where(CustomerDecision.attribute == attribute)).all())


def test_by_category_and_by_tier(app: Flask, province: Province) -> None:
    categories = _decided("statistical_attribute")
    for category in StatisticalAttribute:
        expected = sorted(code for code, value in categories.items() if value == category)
        assert expected, category
        assert _codes(app, "by-category", statistical_attribute=category.value) == expected
    tiers = _decided("service_tier")
    assert {"standard", "gold"} <= set(tiers.values())
    for tier in set(tiers.values()):
        assert _codes(app, "by-tier", service_tier=tier) == sorted(
            code for code, value in tiers.items() if value == tier), tier
    department = province.department
    assert _codes(app, "by-tier", service_tier="standard", org_unit=department) == sorted(
        code for code in customers_with_lines_in(communities_under(department))
        if tiers[code] == "standard")


def _revenue() -> tuple[dict[str, int | None], dict[str, int]]:
    """Per customer: revenue (cents) of the latest complete month (None: no line has
    any), and the total of the three months before it."""
    first = clock.today().replace(day=1)
    this = (first - timedelta(days=1)).replace(day=1)
    previous = [this]
    for _ in range(3):
        previous.append((previous[-1] - timedelta(days=1)).replace(day=1))
    this_month: dict[str, int | None] = dict.fromkeys(_all_customers())
    before: dict[str, int] = defaultdict(int)
    rows = db.session.execute(select(Customer.code, SubscriberMonth).join(
        Subscriber, Subscriber.customer_id == Customer.id).join(
        SubscriberMonth, SubscriberMonth.subscriber_id == Subscriber.id)).all()
    for code, month in rows:
        total = (month.local_revenue_cents + month.long_distance_revenue_cents
                 + month.international_revenue_cents + month.data_revenue_cents
                 + month.value_added_revenue_cents)
        if month.month == this:
            this_month[code] = (this_month[code] or 0) + total
        elif month.month in previous[1:]:
            before[code] += total
    return this_month, {code: before[code] for code in this_month}


def test_by_revenue_this_month_and_three_month_average(app: Flask, province: Province
                                                       ) -> None:
    this_month, before = _revenue()
    known = sorted(value for value in this_month.values() if value is not None)
    threshold = known[len(known) // 2]
    expected = sorted(code for code, value in this_month.items()
                      if value is not None and value >= threshold)
    assert 0 < len(expected) < len(known)
    assert _codes(app, "by-revenue", revenue_min=f"{threshold / 100:.2f}") == expected
    assert _codes(app, "by-revenue", revenue_basis="this_month",
                  revenue_min=f"{(threshold + 1) / 100:.2f}") == [
        code for code in expected if this_month[code] != threshold]
    averages = {code: round(Fraction(total, 3)) for code, total in before.items()}
    middle = sorted(averages.values())[len(averages) // 2]
    for cents in (middle, middle + 1, 0):
        assert _codes(app, "by-revenue", revenue_basis="avg_3m",
                      revenue_min=f"{cents / 100:.2f}") == sorted(
            code for code, average in averages.items() if average >= cents), cents
    shown = every_page(signed_in(app, "viewer"), "/targets/by-revenue",
                       {"revenue_basis": "avg_3m", "revenue_min": f"{middle / 100:.2f}"})
    for row in shown.rows:
        assert int(row[8].replace(".", "")) == averages[row[0]]
        assert row[7] == ("" if this_month[row[0]] is None
                          else f"{this_month[row[0]] / 100:.2f}")


def test_the_average_threshold_rounds_half_even_like_the_facts(app: Flask) -> None:
    numbers = select(literal(0).label("total")).cte("numbers", recursive=True)
    numbers = numbers.union_all(select(numbers.c.total + 1).where(numbers.c.total < 399))
    with db.engine.connect() as conn:
        for months in (3, 12):
            for threshold in range(40):
                found = set(conn.scalars(select(numbers.c.total).where(
                    average_at_least(numbers.c.total, months, threshold))))
                assert found == {total for total in range(400)
                                 if round(Fraction(total, months)) >= threshold}, \
                    (months, threshold)


def test_new_this_month_starts_at_the_operators_midnight(app: Flask, province: Province
                                                         ) -> None:
    start = datetime.combine(clock.today().replace(day=1), datetime.min.time(), SHANGHAI)
    before, on_time = _all_customers()[:2]
    with db.engine.begin() as conn:
        conn.execute(update(Customer).where(Customer.code == before).values(
            created_at=(start - timedelta(seconds=1)).astimezone(UTC)))
        conn.execute(update(Customer).where(Customer.code == on_time).values(
            created_at=start.astimezone(UTC)))
    created = dict(db.session.execute(select(Customer.code, Customer.created_at)).all())
    expected = sorted(code for code, moment in created.items()
                      if (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) >= start)
    assert on_time in expected and before not in expected
    assert _codes(app, "new-this-month") == expected


def _open_alerts() -> list[tuple[int, str, str, datetime]]:
    """(id, type, customer code, raised) of every open alert, newest first."""
    rows = db.session.execute(
        select(Alert.id, Alert.alert_type, Customer.code, Alert.raised_at)
        .join(Subscriber, Subscriber.id == Alert.subscriber_id)
        .join(Customer, Customer.id == Subscriber.customer_id)
        .where(Alert.cleared_at.is_(None)))
    return sorted(rows, key=lambda row: (row[3] if row[3].tzinfo
                                         else row[3].replace(tzinfo=UTC), row[0]),
                  reverse=True)


def test_by_alert_type_lists_the_customers_with_an_open_alert(
        app: Flask, province: Province) -> None:
    for kind in ("arrears", "abnormal_fluctuation"):
        expected = sorted({code for _id, alert_type, code, _at in _open_alerts()
                           if alert_type == kind})
        assert expected
        assert _codes(app, "by-alert-type", alert_type=kind) == expected


def test_each_anomaly_list_holds_the_open_alerts_of_its_type(
        app: Flask, province: Province) -> None:
    client = signed_in(app, "viewer")
    listed = 0
    for kind in RULE_TYPES:
        expected = [alert_id for alert_id, alert_type, _code, _at in _open_alerts()
                    if alert_type == kind]
        assert every_page(client, f"/targets/{kind}", {}).ids == expected, kind
        listed += len(expected)
    assert listed == len(_open_alerts())
    red = [alert_id for alert_id, alert_type, _code, _at in _open_alerts()
           if alert_type == "arrears"
           and db.session.get(Alert, alert_id).severity == "red"]
    assert every_page(client, "/targets/arrears", {"severity": "red"}).ids == red


def test_a_scoped_manager_sees_their_customers_and_the_citys_unassigned_ones(
        app: Flask, province: Province) -> None:
    seen = communities_seen_by(province.department)
    unassigned = {code for code in seen if code.startswith("UA-")}
    expected = sorted(customers_with_lines_in(seen))
    waiting = customers_with_lines_in(unassigned) - customers_with_lines_in(seen - unassigned)
    assert waiting and set(expected) - waiting
    assert _codes(app, "by-org-unit", SCOPED) == expected
    assert _codes(app, "by-region", SCOPED) == expected
    assert len(_codes(app, "by-org-unit")) == len(_all_customers())
    anomaly = every_page(signed_in(app, SCOPED), "/targets/arrears", {})
    assert anomaly.ids == [alert_id for alert_id, kind, code, _at in _open_alerts()
                           if kind == "arrears" and code in expected]
    exported = csv_table(signed_in(app, SCOPED).get("/targets/by-org-unit/export"))
    assert [row[0] for row in exported.rows] == expected


def _same(shown: Table, sheet: list[tuple[object, ...]]) -> None:
    assert len(sheet) == len(shown.rows)
    for page_row, sheet_row in zip(shown.rows, sheet, strict=True):
        assert all(same_cell(text, value)
                   for text, value in zip(page_row, sheet_row, strict=True)), \
            (page_row, sheet_row)


@pytest.mark.parametrize(("name", "query"), [
    ("by-region", {}), ("by-tier", {"service_tier": "standard"}),
    ("by-revenue", {"revenue_basis": "avg_3m", "revenue_min": "10"}),
    ("arrears", {}), ("churn_warning", {"severity": "level_3"})])
def test_exports_hold_the_rows_of_the_page(app: Flask, province: Province, name: str,
                                           query: dict[str, str]) -> None:
    client = signed_in(app, "viewer")
    shown = every_page(client, f"/targets/{name}", query)
    assert shown.rows
    exported = csv_table(client.get(f"/targets/{name}/export",
                                    query_string={**query, "format": "csv"}))
    assert exported.header == shown.header and exported.rows == shown.rows
    header, sheet = xlsx_table(client.get(f"/targets/{name}/export",
                                          query_string={**query, "format": "xlsx"}))
    assert header == shown.header
    _same(shown, sheet)
    if name == "by-region":
        with force_locale("en"):
            assert shown.header == [str(title) for title in CUSTOMER_COLUMNS]
        assert len(shown.rows) == len(_all_customers())


def test_an_export_streams(app: Flask, province: Province) -> None:
    response = signed_in(app, "viewer").get("/targets/by-region/export?format=csv",
                                            buffered=False)
    assert response.is_streamed
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="target-list-by-region.csv"')
    pieces = iter(response.response)
    assert next(pieces) == "\ufeff".encode()
    response.close()


@pytest.mark.parametrize(("name", "query", "field"), [
    ("by-region", {"city": "NO-SUCH-CITY"}, "city"),
    ("by-region", {"billing_area": "ZZ"}, "billing_area"),
    ("by-region", {"city": "x" * 3000}, "city"),
    ("by-org-unit", {"org_unit": "NO-SUCH-UNIT"}, "org_unit"),
    ("by-org-unit", {"org_unit": "A B"}, "org_unit"),
    ("by-category", {"statistical_attribute": "vip"}, "statistical_attribute"),
    ("by-tier", {"service_tier": "platinum"}, "service_tier"),
    ("by-revenue", {"revenue_min": "-1"}, "revenue_min"),
    ("by-revenue", {"revenue_min": "1.234"}, "revenue_min"),
    ("by-revenue", {"revenue_min": "NaN"}, "revenue_min"),
    ("by-revenue", {"revenue_min": "1e400"}, "revenue_min"),
    ("by-revenue", {"revenue_min": "1e-400"}, "revenue_min"),
    ("by-revenue", {"revenue_min": "abc"}, "revenue_min"),
    ("by-revenue", {"revenue_basis": "yearly"}, "revenue_basis"),
    ("by-alert-type", {"alert_type": "no_such_type"}, "alert_type"),
    ("new-this-month", {"after": "C\x00"}, "after"),
    ("arrears", {"severity": "purple"}, "severity"),
    ("arrears", {"date_from": "2026-02-30"}, "date_from"),
    ("arrears", {"before": "0"}, "before"),
])
def test_a_bad_filter_is_named_and_nothing_breaks(app: Flask, province: Province, name: str,
                                                  query: dict[str, str], field: str) -> None:
    client = signed_in(app, "viewer")
    response = client.get(f"/targets/{name}", query_string=query)
    assert response.status_code == 400
    assert f'data-testid="filter-problem">{field}: ' in response.get_data(as_text=True)
    exported = client.get(f"/targets/{name}/export", query_string={**query, "format": "csv"})
    assert exported.status_code == 400 and field in exported.get_json()["errors"]
    wrong = client.get(f"/targets/{name}/export", query_string={"format": "docx"})
    assert wrong.status_code == 400 and "format" in wrong.get_json()["errors"]


def test_a_city_code_must_be_a_citys(app: Flask, province: Province) -> None:
    response = signed_in(app, "viewer").get("/targets/by-region",
                                            query_string={"city": province.department})
    assert response.status_code == 400 and "city: no city" in response.get_data(as_text=True)


def test_a_lists_fixed_filters_cannot_be_overridden(app: Flask, province: Province) -> None:
    """An anomaly list stays its type's open alerts whatever the query string says;
    filters a list does not offer are ignored."""
    client = signed_in(app, "viewer")
    arrears = every_page(client, "/targets/arrears", {}).ids
    assert every_page(client, "/targets/arrears",
                      {"alert_type": "zero_traffic", "status": "cleared"}).ids == arrears
    assert _codes(app, "by-region", service_tier="platinum", list_name="x",
                  _external="1") == _all_customers()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["by-region", "by-revenue", "by-alert-type", "arrears"]),
       st.dictionaries(
           st.sampled_from(["city", "billing_area", "org_unit", "revenue_basis",
                            "revenue_min", "alert_type", "severity", "after", "before",
                            "format"]),
           st.text(max_size=30) | st.sampled_from(["avg_3m", "0.5", "1e9", "arrears"]),
           max_size=5))
def test_no_query_string_makes_a_server_error(app: Flask, province: Province, name: str,
                                              query: dict[str, str]) -> None:
    client = signed_in(app, "viewer")
    for url in (f"/targets/{name}", f"/targets/{name}/export"):
        response = client.get(url, query_string=query)
        assert response.status_code in (200, 400), (url, query, response.status_code)
        response.close()


def test_only_those_who_may_acknowledge_get_the_button(app: Flask, province: Province) -> None:
    for role, shown in (("viewer", True), ("channel_manager", True), ("analyst", False),
                        ("auditor", False)):
        html = signed_in(app, role).get("/targets/arrears").get_data(as_text=True)
        assert ('data-testid="acknowledge"' in html) == shown, role
