"""The org-tree pages: customer counts per unit against an independent count, adding,
renaming, moving, retiring and deleting units with every refusal leaving everything as
it was, billing areas with their unassigned communities, and the admin change log."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.domain import PARENT_KIND, Channel, OrgKind
from tests.web.helpers import alerts, find_form, page_text
from tests.web.lists import (
    Province,
    classified_province,
    communities_under,
    customers_with_lines_in,
    page_table,
    signed_in,
)
from webapp.database import db
from webapp.models import AdminChange, BillingArea, Customer, OrgUnit, PendingChange, StaffUser
from webapp.orgtree import changelog, tree


@pytest.fixture(scope="module")
def province(app: Flask) -> Iterator[Province]:
    yield from classified_province(app)


@pytest.fixture
def admin(app: Flask, province: Province) -> FlaskClient:
    return signed_in(app, "admin")


def _expected_count(code: str) -> int:
    """Customers with a line in the unit's subtree, found by walking up from every
    community (the application walks down in one recursive query)."""
    return len(customers_with_lines_in(communities_under(code)))


def _state() -> tuple[Any, ...]:
    """Everything a refused change must leave as it was."""
    units = db.session.execute(select(OrgUnit.code, OrgUnit.name, OrgUnit.kind,
                                      OrgUnit.parent_id, OrgUnit.channel, OrgUnit.retired)
                               .order_by(OrgUnit.code)).all()
    areas = db.session.execute(select(BillingArea.code, BillingArea.name, BillingArea.city_id)
                               .order_by(BillingArea.code)).all()
    log = db.session.scalar(select(func.count()).select_from(AdminChange))
    queued = db.session.scalar(select(func.count()).select_from(PendingChange))
    db.session.rollback()
    return units, areas, log, queued


def _unit(**conditions: Any) -> OrgUnit:
    query = select(OrgUnit).where(OrgUnit.unassigned_billing_area_id.is_(None))
    for name, value in conditions.items():
        query = query.where(getattr(OrgUnit, name) == value)
    return db.session.scalars(query.order_by(OrgUnit.code)).first()


def _with_customers(kind: OrgKind) -> OrgUnit:
    return next(unit for unit in db.session.scalars(
        select(OrgUnit).where(OrgUnit.kind == kind, OrgUnit.unassigned_billing_area_id.is_(None))
        .order_by(OrgUnit.code)) if _expected_count(unit.code))


def _post(client: FlaskClient, page: str, form_id: str, **values: str) -> Any:
    html = client.get(page).get_data(as_text=True)
    form = find_form(html, form_id=form_id, base=page)
    for name, value in values.items():
        form.set(name, value)
    return client.post(form.action, data=form.data())


def _log(key: str) -> list[tuple[Any, ...]]:
    rows = db.session.execute(select(AdminChange.staff_user_id, AdminChange.subject,
                                     AdminChange.action, AdminChange.old, AdminChange.new,
                                     AdminChange.changed_at)
                              .where(AdminChange.subject_key == key)
                              .order_by(AdminChange.id)).all()
    return [tuple(row) for row in rows]


def _admin_id() -> int:
    return db.session.scalar(select(StaffUser.id).where(StaffUser.username == "admin"))


def test_customer_counts_per_unit_match_an_independent_count(
        app: Flask, province: Province, admin: FlaskClient) -> None:
    counts = tree.customer_counts(db.session.connection())
    units = db.session.scalars(select(OrgUnit)).all()
    expected = {unit.id: _expected_count(unit.code) for unit in units}
    assert {unit_id: count for unit_id, count in expected.items() if count} == counts
    root = next(unit for unit in units if unit.parent_id is None)
    assert counts[root.id] == db.session.scalar(select(func.count()).select_from(Customer))
    # Each level has units with and without customers to tell apart.
    assert len(set(counts.values())) > 5

    page = admin.get(f"/org/units/{root.code}")
    assert page.status_code == 200
    table = page_table(page.get_data(as_text=True).replace('data-testid="units"',
                                                            'data-testid="list-rows"'))
    shown = {row[0]: int(row[4].replace(",", "")) for row in table.rows}
    children = [unit for unit in units if unit.parent_id == root.id]
    assert shown == {unit.code: expected[unit.id] for unit in children}
    index = admin.get("/org/").get_data(as_text=True)
    assert root.code in index and f"{counts[root.id]:,}" in index


def test_a_unit_is_added_renamed_moved_retired_and_deleted_with_each_change_logged(
        app: Flask, province: Province, admin: FlaskClient) -> None:
    area = _unit(kind=OrgKind.AREA, channel=Channel.PUBLIC)
    other = db.session.scalars(select(OrgUnit).where(
        OrgUnit.kind == OrgKind.AREA, OrgUnit.channel == Channel.PUBLIC,
        OrgUnit.id != area.id).order_by(OrgUnit.code)).first()
    area_code, other_code = area.code, other.code
    db.session.execute(PendingChange.__table__.delete())
    db.session.commit()

    response = _post(admin, f"/org/units/{area_code}", "add-unit", **{
        "add-code": "T-NEW-1", "add-name": "新社区", "add-kind": "community",
        "add-channel": "public"})
    assert response.status_code == 303, alerts(response.get_data(as_text=True))
    assert response.headers["Location"].endswith("/org/units/T-NEW-1")
    added = _unit(code="T-NEW-1")
    assert (added.name, added.kind, added.parent.code, added.channel, added.retired) == (
        "新社区", OrgKind.COMMUNITY, area_code, Channel.PUBLIC, False)
    # The tree's shape changed: every customer is queued, as the org-units import does.
    queued = set(db.session.scalars(select(PendingChange.subject_id)
                                    .where(PendingChange.subject == "customer")))
    assert queued == set(db.session.scalars(select(Customer.id)))

    page = "/org/units/T-NEW-1"
    assert _post(admin, page, "rename-unit", **{"rename-name": "改名社区"}).status_code == 303
    assert _post(admin, page, "rename-unit", **{"rename-name": "改名社区"}).status_code == 303
    assert _post(admin, page, "move-unit", **{"move-parent": other_code}).status_code == 303
    db.session.expire_all()
    assert _unit(code="T-NEW-1").parent.code == other_code
    assert _post(admin, page, "retire-unit").status_code == 303
    db.session.expire_all()
    assert _unit(code="T-NEW-1").retired
    response = _post(admin, page, "delete-unit")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/org/units/{other_code}")
    assert _unit(code="T-NEW-1") is None

    who, when = _admin_id(), app.config["FROZEN_NOW"]
    rows = [(staff, subject, action, old, new) for staff, subject, action, old, new, at
            in _log("T-NEW-1")]
    assert rows == [
        (who, "org_unit", "created", None, {"code": "T-NEW-1", "name": "新社区",
                                            "kind": "community", "parent": area_code,
                                            "channel": "public"}),
        # The second rename changed nothing and wrote nothing.
        (who, "org_unit", "renamed", {"name": "新社区"}, {"name": "改名社区"}),
        (who, "org_unit", "moved", {"parent": area_code}, {"parent": other_code}),
        (who, "org_unit", "retired", {"retired": False}, {"retired": True}),
        (who, "org_unit", "deleted", {"code": "T-NEW-1", "name": "改名社区",
                                      "kind": "community", "parent": other_code,
                                      "channel": "public", "retired": True}, None),
    ]
    assert {at.replace(tzinfo=None) for *_, at in _log("T-NEW-1")} == {
        when.replace(tzinfo=None)}


def _unassigned() -> OrgUnit:
    return db.session.scalars(select(OrgUnit).where(
        OrgUnit.unassigned_billing_area_id.is_not(None)).order_by(OrgUnit.code)).first()


def test_every_refused_change_says_why_and_changes_nothing(
        app: Flask, province: Province, admin: FlaskClient) -> None:
    department = _with_customers(OrgKind.DEPARTMENT)
    area = db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == department.id)
                              .order_by(OrgUnit.code)).first()
    community = _with_customers(OrgKind.COMMUNITY)
    other_channel = next(channel for channel in Channel if channel != area.channel)
    unassigned = _unassigned()
    centre = department.parent
    taken = community.code
    department_code, area_code, centre_code = department.code, area.code, centre.code
    ua_code, community_code = unassigned.code, community.code
    customers = _expected_count(department_code)
    area_page, department_page = f"/org/units/{area_code}", f"/org/units/{department_code}"
    before = _state()

    add = {"add-code": "T-REFUSED", "add-name": "x", "add-kind": "community",
           "add-channel": area.channel.value}
    refusals = [
        (area_page, "add-unit", {**add, "add-kind": "area"}, "a area must sit under a department"),
        (department_page, "add-unit", add, "a community must sit under a area"),
        (area_page, "add-unit", {**add, "add-parent": "NO-SUCH-UNIT"},
         "There is no org unit NO-SUCH-UNIT."),
        (area_page, "add-unit", {**add, "add-code": taken}, f"The code {taken} is taken already."),
        (area_page, "add-unit", {**add, "add-code": "X" * 41}, "40"),
        (area_page, "add-unit", {**add, "add-name": "名" * 10_000}, "100"),
        (area_page, "add-unit", {**add, "add-code": "A\x07B"}, "code: "),
        (area_page, "add-unit", {**add, "add-name": "a\u200bb"}, "control or invisible"),
        (area_page, "add-unit", {**add, "add-code": "<script>"}, "is not a code"),
        (area_page, "add-unit", {**add, "add-name": "<script>alert(1)</script>' OR 1=1"
                                 + "\x00"}, "control or invisible"),
        (area_page, "add-unit", {**add, "add-channel": other_channel.value},
         f"belongs to {area.channel.value}"),
        (area_page, "add-unit", {**add, "add-channel": ""}, "A community needs a channel."),
        (area_page, "add-unit", {**add, "add-code": "ua-mine"}, "reserved"),
        (department_page, "move-unit", {"move-parent": area_code},
         f"{area_code} is {department_code} itself or one of its sub-units"),
        (area_page, "move-unit", {"move-parent": centre_code},
         f"{centre_code} is a centre; a area must sit under a department"),
        (area_page, "move-unit", {"move-parent": "NO-SUCH-UNIT"},
         "There is no org unit NO-SUCH-UNIT."),
        (department_page, "retire-unit", {},
         f"{department_code} cannot be retired: {customers} customers sit there. Move its "
         "customers to another unit first"),
        (department_page, "delete-unit", {},
         f"{department_code} cannot be deleted: {customers} customers sit there"),
        (f"/org/units/{community_code}", "retire-unit", {}, "customers sit there"),
    ]
    for page, form_id, values, message in refusals:
        response = _post(admin, page, form_id, **values)
        html = response.get_data(as_text=True)
        assert response.status_code in (400, 409), (form_id, values)
        assert message in page_text(html), (form_id, values, alerts(html))
        assert _state() == before, (form_id, values)

    # The unassigned communities are the billing areas' own: no form is offered, and a
    # hand-made request is refused.
    html = admin.get(f"/org/units/{ua_code}").get_data(as_text=True)
    assert "rename-unit" not in html and "retire-unit" not in html
    token = find_form(admin.get(area_page).get_data(as_text=True), form_id="retire-unit").get(
        "csrf_token")
    for action, data in (("rename", {"rename-name": "x"}), ("move", {"move-parent": centre_code}),
                         ("retire", {}), ("delete", {})):
        response = admin.post(f"/org/units/{ua_code}/{action}",
                              data={"csrf_token": token, **data})
        assert response.status_code == 409, action
        assert "cannot be changed by hand" in page_text(response.get_data(as_text=True))
        assert _state() == before, action
    assert admin.post(f"/org/units/{ua_code}/retire").status_code == 400  # no CSRF token
    assert admin.post("/org/units/NO-SUCH/retire", data={"csrf_token": token}).status_code == 404


def test_the_services_refuse_what_the_pages_refuse(app: Flask, province: Province) -> None:
    department = _with_customers(OrgKind.DEPARTMENT)
    count = _expected_count(department.code)
    when = app.config["FROZEN_NOW"]
    before = _state()
    conn = db.session.connection()
    with pytest.raises(tree.OrgRefusal) as refused:
        tree.retire_unit(conn, department.code, staff_id=None, now=when)
    assert str(refused.value) == (f"{department.code} cannot be retired: {count} customers sit "
                                  "there. Move its customers to another unit first, then "
                                  "retire it.")
    assert refused.value.field is None
    province_unit = _unit(kind=OrgKind.PROVINCE)
    tree.add_unit(conn, code="P2", name="P", kind="province", parent_code=None, channel=None,
                  staff_id=None, now=when)
    with pytest.raises(tree.OrgRefusal, match="A province has no parent unit"):
        tree.move_unit(conn, province_unit.code, "P2", staff_id=None, now=when)
    with pytest.raises(tree.OrgRefusal, match="A province has no parent"):
        tree.add_unit(conn, code="P3", name="P", kind="province", parent_code=department.code,
                      channel=None, staff_id=None, now=when)
    with pytest.raises(tree.OrgRefusal, match="A city has no channel"):
        tree.add_unit(conn, code="C2", name="C", kind="city", parent_code=province_unit.code,
                      channel="public", staff_id=None, now=when)
    with pytest.raises(tree.OrgRefusal, match="Choose the kind"):
        tree.add_unit(conn, code="C2", name="C", kind="planet", parent_code=None,
                      channel=None, staff_id=None, now=when)
    with pytest.raises(tree.OrgRefusal, match="sub-units that are not retired"):
        # A unit whose only sub-units have no customers still has live sub-units.
        empty = next(unit for unit in db.session.scalars(select(OrgUnit).where(
            OrgUnit.kind == OrgKind.AREA)) if not _expected_count(unit.code))
        tree.retire_unit(conn, empty.code, staff_id=None, now=when)
    db.session.rollback()
    assert _state() == before
    assert set(PARENT_KIND) == set(OrgKind)


def test_a_billing_area_comes_with_its_unassigned_communities(
        app: Flask, province: Province, admin: FlaskClient) -> None:
    city = _unit(kind=OrgKind.CITY)
    city_code = city.code
    before = _state()
    for values, message in (
            ({"area-code": "X" * 21, "area-name": "n", "area-city": city_code}, "20"),
            ({"area-code": "NEWAREA", "area-name": "n" * 81, "area-city": city_code}, "80"),
            ({"area-code": db.session.scalar(select(BillingArea.code)), "area-name": "n",
              "area-city": city_code}, "is taken already"),
            ({"area-code": "NEWAREA", "area-name": "n",
              "area-city": _unit(kind=OrgKind.CENTRE).code}, "is not a city branch"),
            ({"area-code": "NEW AREA", "area-name": "n", "area-city": city_code},
             "is not a code")):
        response = _post(admin, "/org/billing-areas", "add-area", **values)
        assert response.status_code == 400, values
        assert message in page_text(response.get_data(as_text=True)), values
        assert _state() == before

    response = _post(admin, "/org/billing-areas", "add-area", **{
        "area-code": "NEWAREA", "area-name": "新区", "area-city": city_code})
    assert response.status_code == 303
    html = admin.get("/org/billing-areas").get_data(as_text=True)
    assert f"UA-NEWAREA-{Channel.PUBLIC.value}" in html
    created = db.session.execute(select(OrgUnit.code, OrgUnit.name, OrgUnit.parent_id)
                                 .join(BillingArea,
                                       BillingArea.id == OrgUnit.unassigned_billing_area_id)
                                 .where(BillingArea.code == "NEWAREA")
                                 .order_by(OrgUnit.code)).all()
    assert [code for code, _name, _parent in created] == sorted(
        f"UA-NEWAREA-{channel.value}" for channel in Channel)
    assert {parent for _code, _name, parent in created} == {city.id}
    assert all(name.startswith("新区") for _code, name, _parent in created)
    who = _admin_id()
    assert [row[:5] for row in _log("NEWAREA")] == [
        (who, "billing_area", "created", None,
         {"code": "NEWAREA", "name": "新区", "city": city_code})]
    public = f"UA-NEWAREA-{Channel.PUBLIC.value}"
    assert [row[:5] for row in _log(public)] == [
        (who, "org_unit", "created", None, {"code": public, "name": "新区公众客户未分配社区",
                                            "kind": "community", "parent": city_code,
                                            "channel": "public"})]
    with pytest.raises(tree.OrgRefusal, match="cannot be changed by hand"):
        tree.rename_unit(db.session.connection(), public, "x", staff_id=None,
                         now=app.config["FROZEN_NOW"])
    db.session.rollback()


def test_the_change_log_filters_and_pages_newest_first(
        app: Flask, province: Province) -> None:
    when = app.config["FROZEN_NOW"]
    admin_id = _admin_id()
    conn = db.session.connection()
    area = _unit(kind=OrgKind.AREA, channel=Channel.PUBLIC)
    for number in range(3):
        tree.add_unit(conn, code=f"LOG-{number}", name=f"n{number}", kind="community",
                      parent_code=area.code, channel="public", staff_id=admin_id,
                      now=when - timedelta(days=number))
    tree.rename_unit(conn, "LOG-0", "renamed", staff_id=None, now=when)
    db.session.commit()
    ids = list(db.session.scalars(select(AdminChange.id).order_by(AdminChange.id.desc())))
    conn = db.session.connection()

    tz = ZoneInfo(app.config["TIMEZONE"])
    first, following = changelog.page(conn, {}, tz, size=2)
    assert [row.id for row in first] == ids[:2] and following == ids[1]
    second, _ = changelog.page(conn, {"before": following}, tz, size=2)
    assert [row.id for row in second] == ids[2:4]

    auditor = signed_in(app, "auditor")
    html = auditor.get("/admin-log/", query_string={"key": "LOG-0"}).get_data(as_text=True)
    rows = page_table(html).rows
    assert [row[5] for row in rows] == ["renamed", "created"]
    assert rows[0][2] == "command line" and rows[1][2] == "admin"
    assert rows[0][6] == "name: n0 → renamed"
    by_person = page_table(auditor.get("/admin-log/", query_string={
        "person": "admin", "subject": "org_unit", "key": "LOG-1"}).get_data(as_text=True)).rows
    assert [row[4] for row in by_person] == ["LOG-1"]
    day = (when - timedelta(days=2)).astimezone(tz).date().isoformat()
    on_day = page_table(auditor.get("/admin-log/", query_string={
        "date_from": day, "date_to": day}).get_data(as_text=True)).rows
    assert [row[4] for row in on_day] == ["LOG-2"]
    for bad in ({"subject": "planet"}, {"date_from": "yesterday"}, {"key": "a\x00b"},
                {"before": "-1"}, {"key": "k" * 101}):
        response = auditor.get("/admin-log/", query_string=bad)
        assert response.status_code == 400, bad
