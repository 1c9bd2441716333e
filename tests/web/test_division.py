"""The monthly division review: the worklist in scope, moves by selection and by file,
and every refusal leaving everything as it was."""

import io
import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from engine.domain import ClassifiedAttribute, DecisionSource, OrgKind, StaffRole
from tests.web.conftest import login
from tests.web.helpers import alerts, find_form, page_text
from tests.web.test_customers import AS_OF, _codes_under, in_window
from webapp.database import db
from webapp.models import (
    AdjustmentLogEntry,
    Customer,
    OrgUnit,
    StaffUser,
    Subscriber,
    SubscriberDecision,
)

COMMUNITY = ClassifiedAttribute.COMMUNITY


@pytest.fixture
def province(app: Flask, engine: Engine) -> Iterator[None]:
    result = app.test_cli_runner().invoke(args=["demo", "-n", "400", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    in_window(app)
    yield
    app.config.pop("FROZEN_NOW", None)


def _waiting(units: list[str] | None = None) -> list[str]:
    """Codes of the customers with a line in an unassigned community (of ``units``),
    counted independently of the page's query. Demo customers all arrived today."""
    unassigned = select(OrgUnit.code).where(OrgUnit.unassigned_billing_area_id.is_not(None))
    if units is not None:
        unassigned = unassigned.where(OrgUnit.code.in_(units))
    return sorted(db.session.scalars(select(Customer.code).distinct().join(Subscriber).join(
        SubscriberDecision, SubscriberDecision.subscriber_id == Subscriber.id).where(
        SubscriberDecision.attribute == COMMUNITY,
        SubscriberDecision.value.in_(unassigned))))


def _manager(app: Flask, create_user: Callable[..., StaffUser]
             ) -> tuple[FlaskClient, StaffUser, OrgUnit]:
    """A channel manager scoped to the department with the most waiting customers."""
    counts = db.session.execute(select(OrgUnit.parent_id, OrgUnit.channel, func.count())
                                .join(SubscriberDecision, SubscriberDecision.value == OrgUnit.code)
                                .where(OrgUnit.unassigned_billing_area_id.is_not(None))
                                .group_by(OrgUnit.parent_id, OrgUnit.channel)
                                .order_by(func.count().desc())).first()
    department = db.session.scalar(select(OrgUnit).where(
        OrgUnit.kind == OrgKind.DEPARTMENT, OrgUnit.channel == counts.channel,
        OrgUnit.parent.has(OrgUnit.parent_id == counts.parent_id)).order_by(OrgUnit.code)
        .limit(1))
    user = create_user(StaffRole.CHANNEL_MANAGER, "zhao")
    user.org_unit_id = department.id
    db.session.commit()
    client = app.test_client()
    login(client, "zhao")
    return client, user, department


def _unchecked(html: str) -> list[str]:
    """The customers listed (their boxes are unchecked on a fresh page)."""
    return re.findall(r'name="customer" value="([^"]+)"', html)


def _lines(code: str) -> dict[int, tuple[str, DecisionSource]]:
    return {line: (value, source) for line, value, source in db.session.execute(
        select(Subscriber.id, SubscriberDecision.value, SubscriberDecision.source)
        .join(SubscriberDecision, SubscriberDecision.subscriber_id == Subscriber.id)
        .join(Customer).where(Customer.code == code,
                              SubscriberDecision.attribute == COMMUNITY))}


def _log_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AdjustmentLogEntry))


def test_the_worklist_is_this_months_arrivals_waiting_in_the_managers_scope(
        app: Flask, province: None, create_user: Callable[..., StaffUser],
        client_as: Callable[[StaffRole], FlaskClient]) -> None:
    client, _user, department = _manager(app, create_user)
    expected = _waiting(_codes_under(department))
    assert expected and expected != _waiting()
    assert sorted(_unchecked(client.get("/division/").get_data(as_text=True))) == expected
    admin = client_as(StaffRole.ADMIN)
    everyone = _unchecked(admin.get("/division/").get_data(as_text=True))
    assert len(everyone) == min(len(_waiting()), 100)
    assert admin.get("/division/", query_string={"before": "x' OR 1=1"}).status_code == 400
    app.config["FROZEN_NOW"] = app.config["FROZEN_NOW"].replace(
        year=app.config["FROZEN_NOW"].year + 1)
    assert _unchecked(admin.get("/division/").get_data(as_text=True)) == []


def _move_form(client: FlaskClient, codes: list[str], community: str, reason: str) -> dict:
    html = client.get("/division/").get_data(as_text=True)
    form = find_form(html, form_id="move-form")
    data = form.data()
    data.setlist("customer", codes)
    data["move-community"] = community
    data["move-reason"] = reason
    return data


def _destination(department: OrgUnit) -> str:
    return db.session.scalar(select(OrgUnit.code).where(
        OrgUnit.kind == OrgKind.COMMUNITY, OrgUnit.unassigned_billing_area_id.is_(None),
        OrgUnit.code.in_(_codes_under(department))).order_by(OrgUnit.code).limit(1))


def test_moving_selected_customers_pins_their_lines_and_logs_who_and_why(
        app: Flask, province: None, create_user: Callable[..., StaffUser]) -> None:
    client, user, department = _manager(app, create_user)
    waiting = _waiting(_codes_under(department))[:2]
    target = _destination(department)
    before = {code: _lines(code) for code in waiting}
    moved = client.post("/division/move", data=_move_form(client, waiting, target,
                                                          "surveyed on site"))
    assert moved.status_code == 303, page_text(moved.get_data(as_text=True))[-1500:]
    page = client.get("/division/").get_data(as_text=True)
    assert f"2 customers moved to {target}" in " ".join(alerts(page))
    assert not set(waiting) & set(_unchecked(page))
    db.session.expire_all()
    for code in waiting:
        # The lines that waited are pinned to the target; lines placed elsewhere stay.
        assert _lines(code) == {line: (target, DecisionSource.PIN)
                                if value.startswith("UA-") else (value, source)
                                for line, (value, source) in before[code].items()}
    entries = db.session.scalars(select(AdjustmentLogEntry).where(
        AdjustmentLogEntry.staff_user_id == user.id)).all()
    assert entries and {(entry.new_value, entry.reason) for entry in entries} == {
        (target, "surveyed on site")}


def test_refused_moves_change_nothing_and_say_why(
        app: Flask, province: None, create_user: Callable[..., StaffUser]) -> None:
    client, _user, department = _manager(app, create_user)
    mine = _waiting(_codes_under(department))[0]
    theirs = next(code for code in _waiting() if code not in _waiting(_codes_under(department)))
    target = _destination(department)
    logged = _log_count()
    cases = [
        (_move_form(client, [mine, theirs], target, "r"), 409,
         f"line 2: customer {theirs} has no line waiting"),
        (_move_form(client, [mine, "C-NOPE"], target, "r"), 409, "line 2: no customer C-NOPE"),
        (_move_form(client, [mine], "", "r"), 400, "Move to community: "),
        (_move_form(client, [mine], "NOT-A-UNIT", "r"), 400, "Not a valid choice"),
        (_move_form(client, [mine], target, ""), 400, "Reason: This field is required."),
        (_move_form(client, [], target, "r"), 400, "Select at least one customer."),
        (_move_form(client, [f"C{n}" for n in range(1001)], target, "r"), 400,
         "At most 1000 customers at once."),
    ]
    for data, status, message in cases:
        answer = client.post("/division/move", data=data)
        assert answer.status_code == status, message
        assert message in page_text(answer.get_data(as_text=True)), message
    no_token = _move_form(client, [mine], target, "r")
    del no_token["move-csrf_token"]
    assert client.post("/division/move", data=no_token).status_code == 400
    in_window(app, open_=False)
    closed = client.post("/division/move", data=_move_form(client, [mine], target, "r"))
    assert closed.status_code == 409
    assert "It opens again on" in page_text(closed.get_data(as_text=True))
    assert _log_count() == logged


def _upload(client: FlaskClient, name: str, data: bytes, community: str,
            reason: str = "from the branch's list") -> tuple[int, str]:
    html = client.get("/division/").get_data(as_text=True)
    form = find_form(html, form_id="upload-form").data()
    form["upload-community"] = community
    form["upload-reason"] = reason
    form["upload-file"] = (io.BytesIO(data), name)
    answer = client.post("/division/upload", data=form, content_type="multipart/form-data")
    if answer.status_code == 303:
        return 303, page_text(client.get("/division/").get_data(as_text=True))
    return answer.status_code, page_text(answer.get_data(as_text=True))


def test_moves_from_an_uploaded_file_report_every_bad_line_or_move_all(
        app: Flask, province: None, create_user: Callable[..., StaffUser]) -> None:
    client, _user, department = _manager(app, create_user)
    mine = _waiting(_codes_under(department))
    theirs = next(code for code in _waiting() if code not in mine)
    target = _destination(department)
    logged = _log_count()
    bad = f"客户编码\n{mine[0]}\nC-NOPE\n{mine[0]}\n\n{theirs}\n".encode()
    status, text = _upload(client, "list.csv", bad, target)
    assert status == 400 and "line 3: the first column is empty" not in text
    assert f"line 4: {mine[0]} is repeated (first on line 2)" in text
    assert "Nothing was moved: 1 lines of list.csv cannot be used." in text
    status, text = _upload(client, "list.csv", f"{mine[0]}\nC-NOPE\n{theirs}\n".encode(),
                           target)
    assert status == 409
    assert "line 2: no customer C-NOPE" in text and f"line 3: customer {theirs} has no" in text
    for name, data, message in [
        ("list.csv", b"", "holds no customer code"),
        ("list.csv", "编码".encode("utf-16"), "neither UTF-8 nor GBK"),
        ("list.xlsx", b"PK\x03\x04garbage", "not a readable XLSX workbook"),
        ("list.exe", b"MZ", "expected a .csv or .xlsx file"),
    ]:
        status, text = _upload(client, name, data, target)
        assert status == 400 and message in text, (name, text[:300])
    assert _log_count() == logged

    book = Workbook()
    book.active.append(["customer_code"])
    for code in mine[:3]:
        book.active.append([code])
    book.create_sheet("notes").append(["ignored"])
    out = io.BytesIO()
    book.save(out)
    status, text = _upload(client, "list.xlsx", out.getvalue(), target)
    assert status == 303, text[:500]
    assert f"{min(3, len(mine))} customers moved to {target}" in text
    assert "only the first sheet (Sheet) was read; ignored: notes" in text
    assert _log_count() > logged
