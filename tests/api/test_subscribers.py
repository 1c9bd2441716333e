"""Subscriber records through the API: the subscribers feed's rules, all or nothing, every
bad record and field named."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from engine.domain import StaffRole
from tests.api.conftest import bearer, token_for
from tests.feeds.helpers import SUBSCRIBERS, load, load_reference
from webapp.api.subscribers import MAX_RECORDS
from webapp.database import db
from webapp.feeds.schemas import SubscriberRow
from webapp.models import Customer, ImportRun, PendingChange, StaffUser, Subscriber

COLUMNS = SubscriberRow.columns()
URL = "/api/v1/subscribers"


def _records(rows: list[list[str]] = SUBSCRIBERS) -> list[dict[str, Any]]:
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


@pytest.fixture
def billing(app: Flask, engine: Engine, tmp_path: Path,
            create_user: Callable[..., StaffUser]) -> Callable[..., Any]:
    """``billing(records)``: POST them as billing's admin token does, on the small province."""
    load_reference(engine, tmp_path)
    create_user(StaffRole.ADMIN, "billing-sync")
    headers, client = bearer(token_for("billing-sync")), app.test_client()

    def send(records: Any) -> Any:
        return client.post(URL, json={"records": records}, headers=headers)
    return send


def _stored() -> dict[str, tuple[Any, ...]]:
    rows = db.session.execute(select(Subscriber, Customer.code).join(
        Customer, Customer.id == Subscriber.customer_id)).all()
    return {line.service_number: (line.name, line.status, line.contract_number, code,
                                  line.install_date, line.prepaid, line.balance_cents,
                                  line.agreement_end_date)
            for line, code in rows}


def test_records_are_stored_as_the_subscribers_feed_stores_them(
        billing: Callable[..., Any], engine: Engine, tmp_path: Path) -> None:
    records = _records()
    records[1].update(prepaid=True, balance=8.5)  # JSON types, read as the cells would be
    response = billing(records)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"inserted": 3, "updated": 0, "unchanged": 0,
                                   "notes": ["new customers: 2"]}
    stored = _stored()
    assert stored["77100000002"][3] == stored["77100000001"][3] == "CHT001"
    assert stored["77100000002"][5:7] == (True, 850)
    assert db.session.scalar(select(func.count()).select_from(PendingChange)) == 3
    run = db.session.scalars(select(ImportRun).order_by(ImportRun.id.desc())).first()
    assert run is not None and (run.feed, run.status, run.inserted) == ("subscribers", "ok", 3)
    assert run.file_name.startswith("API token #") and "billing-sync" in run.file_name

    # The feed file of the same rows finds nothing to change: same values stored.
    assert load(engine, tmp_path, "subscribers", SUBSCRIBERS).unchanged == 3
    again = billing(_records())
    assert again.get_json()["unchanged"] == 3
    moved = _records()[:1]
    moved[0]["status"] = "停机保号"  # the operator's label, as in their exports
    assert billing(moved).get_json() == {"inserted": 0, "updated": 1, "unchanged": 0,
                                         "notes": []}
    assert _stored()["77100000001"][1] == "suspended_keep_number"


def test_one_bad_record_stores_nothing_and_every_problem_is_named(
        billing: Callable[..., Any], engine: Engine, tmp_path: Path) -> None:
    good = _records()[0]
    records: list[Any] = [
        good,
        {**good, "service_number": "12", "status": "sleeping", "balance": "1.234"},
        {**good, "service_number": "77100000009", "billing_area_code": "NOWHERE"},
        {**good, "service_number": "77100000001"},  # the key of record 0 again
        {**good, "service_number": "77100000010", "install_date": "2020-02-30",
         "agreement_end_date": "2019-01-01", "colour": "red"},
        {**good, "service_number": "77100000011", "name": {"first": "张"},
         "prepaid": [1], "product": "\ud800"},
        "not a record",
        {**good, "service_number": "77100000012", "name": "ok\u200b"},
    ]
    response = billing(records)
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == 400 and "errors" in body
    errors = body["errors"]["json"]["records"]
    assert set(errors) == {"1", "4", "5", "6", "7"}  # the schema's checks come first
    assert errors["1"] == {
        "service_number": ["'12' is not a service number (5-20 digits)"],
        "status": [errors["1"]["status"][0]],
        "balance": ["'1.234' has more than 2 decimals or is too large"]}
    assert errors["1"]["status"][0].startswith("'sleeping' is not one of: active")
    assert errors["4"] == {"colour": ["Unknown field."],
                           "install_date": [errors["4"]["install_date"][0]]}
    assert "2020-02-30 is not a valid date" in errors["4"]["install_date"][0]
    assert set(errors["5"]) == {"name", "prepaid", "product"}
    assert errors["5"]["product"] == ["is not valid Unicode (a lone surrogate)"]
    assert errors["6"] == ["must be an object of column → value"]
    assert "invisible formatting character" in errors["7"]["name"][0]
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0

    # Past the schema: the checks against the database and within the batch, as a file's.
    checked = billing([records[0], records[2], records[3]])
    assert checked.status_code == 400
    errors = checked.get_json()["errors"]["json"]["records"]
    assert errors == {
        "0": {"service_number": ["service_number repeats record 2"]},
        "1": {"billing_area_code": ["unknown billing area 'NOWHERE'"]},
        "2": {"service_number": ["service_number repeats record 0"]}}
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0
    failed = db.session.scalars(select(ImportRun).order_by(ImportRun.id.desc())).first()
    assert failed is not None and (failed.status, failed.rejected) == ("failed", 3)


@pytest.mark.parametrize("body", [
    None, [], "records", {"records": None}, {"records": "x"}, {"records": []},
    {"records": [{}] * (MAX_RECORDS + 1)}, {"records": _records(), "extra": 1},
])
def test_a_body_that_is_not_a_batch_of_records_is_refused(
        billing: Callable[..., Any], app: Flask, body: Any) -> None:
    client: FlaskClient = app.test_client()
    headers = bearer(token_for("billing-sync"))
    response = client.post(URL, json=body, headers=headers) if body is not None \
        else client.post(URL, headers=headers)
    assert response.status_code == 400
    payload = response.get_json()
    assert payload["code"] == 400 and payload["errors"]["json"]
    if isinstance(body, dict) and len(body.get("records") or []) > MAX_RECORDS:
        assert payload["errors"]["json"] == {
            "records": [f"1 to {MAX_RECORDS} records per request, got {MAX_RECORDS + 1}"]}
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_a_refusal_of_the_database_stores_nothing_and_says_why(
        billing: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any) -> None:
        raise IntegrityError("INSERT INTO customer ...", {},
                             Exception('duplicate key value violates "uq_customer_code"'))

    monkeypatch.setattr("webapp.feeds.records.merge", refuse)
    response = billing(_records())
    assert response.status_code == 409
    assert response.get_json()["message"] == (
        "the database refused the records, nothing was stored: "
        'duplicate key value violates "uq_customer_code"')
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0
    run = db.session.scalars(select(ImportRun).order_by(ImportRun.id.desc())).first()
    assert run is not None and run.status == "failed" and "refused" in (run.message or "")
