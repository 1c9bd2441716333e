"""The customer page and search: values with their source and reason, scope, pins."""

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select

from engine.domain import ClassifiedAttribute, DecisionSource, OrgKind, StaffRole
from tests.web.conftest import csrf_token
from tests.web.helpers import alerts, find_form, page_text
from webapp.database import db
from webapp.models import (
    AdjustmentLogEntry,
    Customer,
    CustomerDecision,
    OrgUnit,
    StaffUser,
    Subscriber,
    SubscriberDecision,
)

AS_OF = "2026-11-23"
RULES = {path.stem: yaml.safe_load(path.read_text("utf-8"))
         for path in __import__("pathlib").Path(__file__).resolve().parents[2]
         .joinpath("rules").glob("*.yaml")}
TIER = ClassifiedAttribute.SERVICE_TIER


def in_window(app: Flask, open_: bool = True) -> None:
    """Fix the clock inside (day 10) or outside (day 5) the 9-3 adjustment window of
    the current month (demo customers arrive today: the month must stay the same)."""
    today = datetime.now(UTC)
    app.config["ADJUSTMENT_WINDOW"] = "9-3"
    app.config["FROZEN_NOW"] = today.replace(day=10 if open_ else 5, hour=4)


@pytest.fixture
def province(app: Flask, engine: Engine) -> Callable[..., None]:
    result = app.test_cli_runner().invoke(args=["demo", "-n", "400", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    yield
    app.config.pop("FROZEN_NOW", None)


def _decided_by_a_rule(ruleset: str) -> tuple[Customer, CustomerDecision]:
    row = db.session.execute(select(Customer, CustomerDecision).join(
        CustomerDecision, CustomerDecision.customer_id == Customer.id).where(
        CustomerDecision.ruleset_name == ruleset, CustomerDecision.rule_id != "default")
        .order_by(Customer.id).limit(1)).one()
    return row[0], row[1]


def _rule(ruleset: str, rule_id: str) -> dict:
    return next(rule for rule in RULES[ruleset]["rules"] if rule["id"] == rule_id)


def test_every_value_is_shown_with_its_rule_and_the_facts_it_read(
        province: None, client_as: Callable[[StaffRole], FlaskClient]) -> None:
    customer, decision = _decided_by_a_rule("statistical_attribute")
    viewer = client_as(StaffRole.VIEWER)
    html = viewer.get(f"/customers/{customer.code}").get_data(as_text=True)
    stored = db.session.scalars(select(CustomerDecision).where(
        CustomerDecision.customer_id == customer.id)).all()
    assert len(stored) == 4
    table = html[html.index('data-testid="decisions"'):html.index('data-testid="lines"')]
    for value in stored:
        assert f'data-attribute="{value.attribute}"' in table
        assert f'<td class="fw-bold">{value.value}</td>' in table
    rule = _rule("statistical_attribute", decision.rule_id)
    assert rule["title"] in table
    facts = db.session.scalar(select(AdjustmentLogEntry.facts).where(
        AdjustmentLogEntry.customer_id == customer.id,
        AdjustmentLogEntry.attribute == ClassifiedAttribute.STATISTICAL_ATTRIBUTE)
        .order_by(AdjustmentLogEntry.chain_seq.desc()).limit(1))
    assert facts
    # Each comparison of the rule appears with the value the log says the rule read.
    sentences = re.findall(r'data-testid="because">([^<]*)<', table)
    for test in _tests(rule["when"]):
        seen = facts.get(test["fact"]) or "(empty)"
        assert any(f"{test['fact']} {seen}" in sentence for sentence in sentences), sentences
    lines = db.session.scalar(select(func.count()).where(Subscriber.customer_id == customer.id))
    assert page_text(html).count(customer.code) >= 1
    assert f"({lines})" in html


def _tests(condition: dict) -> list[dict]:
    for key in ("all", "any"):
        if key in condition:
            return [test for item in condition[key] for test in _tests(item)]
    if "not" in condition:
        return _tests(condition["not"])
    return [condition]


def test_a_tenure_rule_reads_as_the_issue_asks(
        province: None, client_as: Callable[[StaffRole], FlaskClient]) -> None:
    """The lifecycle rule of new customers: e.g. ``tenure_months 1 < 6``."""
    row = db.session.execute(select(Customer.code, AdjustmentLogEntry.facts).join(
        AdjustmentLogEntry, AdjustmentLogEntry.customer_id == Customer.id).where(
        AdjustmentLogEntry.attribute == ClassifiedAttribute.LIFECYCLE_STAGE,
        AdjustmentLogEntry.rule_id == "acquisition").limit(1)).one()
    html = client_as(StaffRole.ANALYST).get(f"/customers/{row.code}").get_data(as_text=True)
    condition = _rule("lifecycle_stage", "acquisition")["when"]
    test = _tests(condition)[0]
    assert test["op"] == "lt"
    assert f"{test['fact']} {row.facts[test['fact']]} &lt; {test['value']}" in html


def test_search_by_code_contract_service_number_and_name(
        province: None, client_as: Callable[[StaffRole], FlaskClient]) -> None:
    viewer = client_as(StaffRole.VIEWER)
    line = db.session.scalars(select(Subscriber).order_by(Subscriber.id.desc())).first()
    customer = db.session.get(Customer, line.customer_id)
    for query in (customer.code, customer.contract_number, line.service_number,
                  f"  {customer.code} "):
        response = viewer.get("/customers/", query_string={"q": query})
        assert response.status_code == 302, query
        assert response.headers["Location"].endswith(f"/customers/{customer.code}")
    prefix = customer.name[:1]
    html = viewer.get("/customers/", query_string={"q": prefix}).get_data(as_text=True)
    expected = db.session.scalar(select(func.count()).where(Customer.name.startswith(prefix)))
    assert html.count('href="/customers/C') == min(expected, 50)
    for hostile in ("%", "_", "' OR 1=1 --", "<script>alert(1)</script>", "\\", "C%"):
        response = viewer.get("/customers/", query_string={"q": hostile})
        assert response.status_code == 200, hostile
        assert "No customer in your org scope matches." in response.get_data(as_text=True)
    too_long = viewer.get("/customers/", query_string={"q": "x" * 101})
    assert too_long.status_code == 400
    assert "longer than 100 characters" in " ".join(alerts(too_long.get_data(as_text=True)))
    assert viewer.get("/customers/NOPE").status_code == 404
    assert viewer.get("/customers/" + "C" * 300).status_code == 404


def _scoped_manager(create_user: Callable[..., StaffUser], client: FlaskClient,
                    unit: OrgUnit) -> StaffUser:
    from tests.web.conftest import login

    user = create_user(StaffRole.CHANNEL_MANAGER, f"scoped{unit.id}")
    user.org_unit_id = unit.id
    db.session.commit()
    login(client, user.username)
    return user


def test_a_manager_sees_only_the_customers_of_their_scope(
        app: Flask, province: None, create_user: Callable[..., StaffUser]) -> None:
    community = db.session.scalar(select(OrgUnit).where(
        OrgUnit.kind == OrgKind.COMMUNITY, OrgUnit.unassigned_billing_area_id.is_(None),
        OrgUnit.code.in_(select(SubscriberDecision.value))).order_by(OrgUnit.code).limit(1))
    department = community.parent.parent
    client = app.test_client()
    _scoped_manager(create_user, client, department)
    inside = db.session.scalar(select(Customer).join(Subscriber).join(
        SubscriberDecision, SubscriberDecision.subscriber_id == Subscriber.id).where(
        SubscriberDecision.value == community.code).limit(1))
    outside = db.session.scalar(select(Customer).where(~Customer.id.in_(
        select(Subscriber.customer_id).join(SubscriberDecision,
                                            SubscriberDecision.subscriber_id == Subscriber.id)
        .where(SubscriberDecision.value.in_(_codes_under(department))))).limit(1))
    assert client.get(f"/customers/{inside.code}").status_code == 200
    refused = client.get(f"/customers/{outside.code}")
    assert refused.status_code == 404
    assert f"No customer {outside.code} in your org scope." in refused.get_data(as_text=True)
    found = client.get("/customers/", query_string={"q": outside.code})
    assert found.status_code == 200 and f"/customers/{outside.code}" not in \
        found.get_data(as_text=True)


def _codes_under(unit: OrgUnit) -> list[str]:
    """Community codes under ``unit``, read with a recursive query (independent of
    ``webapp.scope``), plus the unassigned ones of its city and channel."""
    tree = select(OrgUnit.id, OrgUnit.code).where(OrgUnit.id == unit.id).cte(recursive=True)
    tree = tree.union_all(select(OrgUnit.id, OrgUnit.code).where(OrgUnit.parent_id == tree.c.id))
    codes = list(db.session.scalars(select(tree.c.code)))
    city = unit
    while city.kind != OrgKind.CITY:
        city = city.parent
    codes += db.session.scalars(select(OrgUnit.code).where(
        OrgUnit.parent_id == city.id, OrgUnit.unassigned_billing_area_id.is_not(None),
        OrgUnit.channel == unit.channel))
    return codes


def test_pin_and_unpin_from_the_page_with_the_log_and_the_window(
        app: Flask, province: None, create_user: Callable[..., StaffUser]) -> None:
    customer, _decision = _decided_by_a_rule("service_tier")
    ruled = db.session.scalar(select(CustomerDecision.value).where(
        CustomerDecision.customer_id == customer.id, CustomerDecision.attribute == TIER))
    pinned_to = "gold" if ruled != "gold" else "silver"
    client = app.test_client()
    from tests.web.conftest import login

    manager = create_user(StaffRole.CHANNEL_MANAGER, "wang")
    login(client, "wang")
    url = f"/customers/{customer.code}"
    logged = db.session.scalar(select(func.count()).select_from(AdjustmentLogEntry))

    in_window(app, open_=False)
    form = find_form(client.get(url).get_data(as_text=True), action=f"{url}/pin")
    form.set("value", pinned_to).set("reason", "signed the gold contract")
    closed = client.post(form.action, data=form.data(), follow_redirects=True)
    text = " ".join(alerts(closed.get_data(as_text=True)))
    assert "outside the adjustment window" in text and "opens again on" in text
    assert db.session.scalar(select(func.count()).select_from(AdjustmentLogEntry)) == logged

    in_window(app)
    for bad, message in (("value", "Value: This field is required."),
                         ("attribute", "Attribute: Not a valid choice.")):
        broken = find_form(client.get(url).get_data(as_text=True), action=f"{url}/pin")
        broken.set("reason", "r").set(bad, "" if bad == "value" else "no_such_attribute")
        answer = client.post(broken.action, data=broken.data(), follow_redirects=True)
        assert message in " ".join(alerts(answer.get_data(as_text=True)))
    wrong = find_form(client.get(url).get_data(as_text=True), action=f"{url}/pin")
    wrong.set("value", "platinum").set("reason", "r")
    def refusal() -> str:
        return " ".join(alerts(client.post(wrong.action, data=wrong.data(),
                                           follow_redirects=True).get_data(as_text=True)))

    assert "Refused: statistical_attribute: 'platinum' is not one of" in refusal()
    # The service's own wording reaches a Chinese reader in Chinese, parameters kept.
    manager.locale = "zh"
    db.session.commit()
    assert "已拒绝：statistical_attribute：'platinum' 不在可选值" in refusal()
    manager.locale = "en"
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(AdjustmentLogEntry)) == logged

    form = find_form(client.get(url).get_data(as_text=True), action=f"{url}/pin")
    form.set("attribute", TIER.value).set("value", pinned_to).set(
        "reason", "signed the gold contract")
    done = client.post(form.action, data=form.data(), follow_redirects=True)
    assert done.status_code == 200
    html = done.get_data(as_text=True)
    assert f"service_tier pinned to {pinned_to}" in " ".join(alerts(html))
    assert "signed the gold contract" in html and "by channel_manager person" in html
    entry = db.session.scalars(select(AdjustmentLogEntry).order_by(
        AdjustmentLogEntry.chain_seq.desc()).limit(1)).one()
    assert (entry.staff_user_id, entry.customer_id, entry.old_value, entry.new_value,
            entry.reason) == (manager.id, customer.id, ruled, pinned_to,
                              "signed the gold contract")

    unpin = find_form(html, action=f"{url}/unpin")
    assert unpin.get("attribute") == TIER.value
    unpin.set("reason", "contract cancelled")
    back = client.post(unpin.action, data=unpin.data(), follow_redirects=True)
    assert "service_tier is decided by the rules again." in " ".join(
        alerts(back.get_data(as_text=True)))
    db.session.expire_all()
    value = db.session.scalars(select(CustomerDecision).where(
        CustomerDecision.customer_id == customer.id, CustomerDecision.attribute == TIER)).one()
    assert (value.value, value.source, value.pin_reason) == (ruled, DecisionSource.RULE, None)
    last = db.session.scalars(select(AdjustmentLogEntry).order_by(
        AdjustmentLogEntry.chain_seq.desc()).limit(1)).one()
    assert (last.old_value, last.new_value, last.reason) == (
        pinned_to, ruled, "unpinned: contract cancelled")
    again = client.post(unpin.action, data=unpin.data(), follow_redirects=True)
    assert "is not pinned" in " ".join(alerts(again.get_data(as_text=True)))


def test_adjustments_need_the_permission_and_a_csrf_token(
        app: Flask, province: None, client_as: Callable[[StaffRole], FlaskClient]) -> None:
    in_window(app)
    code = db.session.scalar(select(Customer.code).limit(1))
    viewer = client_as(StaffRole.VIEWER)
    page = viewer.get(f"/customers/{code}").get_data(as_text=True)
    assert f"/customers/{code}/pin" not in page
    token = csrf_token(page)
    assert viewer.post(f"/customers/{code}/pin", data={
        "csrf_token": token, "attribute": "service_tier", "value": "gold",
        "reason": "x"}).status_code == 403
    manager = client_as(StaffRole.CHANNEL_MANAGER)
    assert manager.post(f"/customers/{code}/pin", data={
        "attribute": "service_tier", "value": "gold", "reason": "x"}).status_code == 400
    assert db.session.scalar(select(func.count()).where(
        CustomerDecision.source == DecisionSource.PIN)) == 0
