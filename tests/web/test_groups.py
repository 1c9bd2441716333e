"""Customer groups: types and groups with every refusal, members one by one and from a
file (every bad line reported, nothing half-done), org scope, the group page's
classification against independent SQL, the export, the admin change log and the queue."""

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import bindparam, delete, func, insert, select, text

from engine.domain import StaffRole
from tests.web.helpers import alerts, find_form, page_text
from tests.web.lists import (
    SCOPED,
    Province,
    classified_province,
    communities_seen_by,
    customers_with_lines_in,
    page_table,
    signed_in,
)
from webapp.database import db
from webapp.groups import members, store
from webapp.models import (
    AdminChange,
    Customer,
    CustomerGroup,
    GroupType,
    OrgUnit,
    customer_group_member,
)
from webapp.models.changes import PendingChange

MEMBER = customer_group_member.c
_LOG_START = [0]


@pytest.fixture(scope="module")
def province(app: Flask) -> Iterator[Province]:
    yield from classified_province(app)


@pytest.fixture(autouse=True)
def _no_groups(province: Province) -> Iterator[None]:
    """Each test starts without groups, types or queued changes; it reads the admin
    change log (append-only) from where it stood at its start."""
    _LOG_START[0] = db.session.scalar(select(func.max(AdminChange.id))) or 0
    yield
    db.session.rollback()
    for table in (customer_group_member, CustomerGroup.__table__, GroupType.__table__,
                  PendingChange.__table__):
        db.session.execute(delete(table))
    db.session.commit()


def _client(app: Flask, username: str = StaffRole.ANALYST.value) -> FlaskClient:
    return signed_in(app, username)


def _post(client: FlaskClient, page: str, form_id: str, **values: str) -> tuple[int, str]:
    """Fill the form ``form_id`` of ``page`` and send it; the status and the text of the
    answer (of the page it redirects to)."""
    form = find_form(client.get(page).get_data(as_text=True), form_id=form_id)
    data = form.data()
    for name, value in values.items():
        data[name] = value
    answer = client.post(form.action, data=data)
    if answer.status_code == 303:
        html = client.get(answer.headers["Location"]).get_data(as_text=True)
        return 303, " ".join([*alerts(html), page_text(html)])
    html = answer.get_data(as_text=True)
    return answer.status_code, " ".join([*alerts(html), page_text(html)])


def _log(subject: str) -> list[AdminChange]:
    return list(db.session.scalars(select(AdminChange).where(
        AdminChange.subject == subject, AdminChange.id > _LOG_START[0])
        .order_by(AdminChange.id)))


def _type(client: FlaskClient, code: str, name: str) -> tuple[int, str]:
    return _post(client, "/groups/types/", "type-form", **{"type-code": code,
                                                            "type-name": name})


def _type_id(code: str) -> int:
    return db.session.scalar(select(GroupType.id).where(GroupType.code == code))


def _group(client: FlaskClient, name: str, type_code: str, unit: str = "") -> tuple[int, str]:
    return _post(client, "/groups/", "group-form", **{
        "group-name": name, "group-group_type": str(_type_id(type_code)),
        "group-org_unit": unit})


def _group_id(name: str) -> int:
    return db.session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == name))


def _members(group_id: int) -> set[str]:
    return set(db.session.scalars(select(Customer.code).join(
        customer_group_member, MEMBER.customer_id == Customer.id)
        .where(MEMBER.group_id == group_id)))


def _queued() -> set[int]:
    return set(db.session.scalars(select(PendingChange.subject_id)
                                  .where(PendingChange.subject == "customer")))


def _codes(count: int, offset: int = 0) -> list[str]:
    return list(db.session.scalars(select(Customer.code).order_by(Customer.code)
                                   .offset(offset).limit(count)))


def _ids(codes: list[str]) -> set[int]:
    return set(db.session.scalars(select(Customer.id).where(Customer.code.in_(codes))))


def test_group_types_are_added_renamed_and_deleted_only_when_unused(app: Flask) -> None:
    client = _client(app)
    assert _type(client, "industrial_park", "工业园区")[0] == 303
    refusals = {
        ("industrial_park", "again"): "exists already",
        ("Bad-Code", "x"): "lower-case",
        ("a,b", "x"): "lower-case",
        ("estate", ""): "This field is required",
        ("estate", "x" * 10_000): "Field cannot be longer than 100 characters",
        ("' OR 1=1", "x"): "lower-case",
    }
    for (code, name), why in refusals.items():
        status, said = _type(client, code, name)
        assert status in (400, 409) and why in said, (code, said[:300])
    assert db.session.scalar(select(func.count()).select_from(GroupType)) == 1
    assert _type(client, "estate", "<script>alert(1)</script>")[0] == 303
    html = client.get("/groups/types/").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    park = _type_id("industrial_park")
    status, said = _post(client, "/groups/types/", "type-form")  # the page still works
    assert status == 400
    answer = client.post(f"/groups/types/{park}", data={
        "csrf_token": find_form(html, action=f"/groups/types/{park}").get("csrf_token"),
        "name": "Industrial park"})
    assert answer.status_code == 303
    assert db.session.scalar(select(GroupType.name).where(GroupType.id == park)) == \
        "Industrial park"
    assert _group(client, "Park A", "industrial_park")[0] == 303
    assert _group(client, "Park B", "industrial_park")[0] == 303
    html = client.get("/groups/types/").get_data(as_text=True)
    form = find_form(html, action=f"/groups/types/{park}/delete")
    answer = client.post(form.action, data=form.data())
    assert answer.status_code == 409
    assert "industrial_park is the type of 2 groups" in " ".join(
        alerts(answer.get_data(as_text=True)))
    assert _type_id("industrial_park") == park
    estate = _type_id("estate")
    form = find_form(html, action=f"/groups/types/{estate}/delete")
    assert client.post(form.action, data=form.data()).status_code == 303
    assert _type_id("estate") is None
    logged = [(row.subject_key, row.action, row.old, row.new) for row in _log("group_type")]
    assert logged == [
        ("industrial_park", "created", None, {"code": "industrial_park", "name": "工业园区"}),
        ("estate", "created", None, {"code": "estate", "name": "<script>alert(1)</script>"}),
        ("industrial_park", "renamed", {"name": "工业园区"}, {"name": "Industrial park"}),
        ("estate", "deleted", {"code": "estate", "name": "<script>alert(1)</script>"}, None),
    ]


def test_groups_are_created_edited_and_deleted_with_their_members(app: Flask) -> None:
    client = _client(app)
    _type(client, "building", "楼宇")
    _type(client, "industrial_park", "工业园区")
    assert _group(client, "Tower 1", "building")[0] == 303
    for name, type_code, unit, why in (
            ("Tower 1", "building", "", "A group named Tower 1 exists already"),
            ("", "building", "", "This field is required"),
            ("y" * 10_000, "building", "", "Field cannot be longer than 100 characters"),
            ("Tower 2", "building", "NOWHERE", "No org unit NOWHERE")):
        status, said = _group(client, name, type_code, unit)
        assert status in (400, 409) and why in said, (name[:20], said[:300])
    assert db.session.scalar(select(func.count()).select_from(CustomerGroup)) == 1
    group = _group_id("Tower 1")
    codes = _codes(3)
    for code in codes:
        assert _post(client, f"/groups/{group}", "member-form",
                     **{"member-code": code})[0] == 303
    assert _members(group) == set(codes)
    assert _queued() == _ids(codes)
    db.session.execute(delete(PendingChange))
    db.session.commit()
    # Renaming changes no fact; a new type changes the members' group_type.
    status, _said = _post(client, f"/groups/{group}", "edit-form",
                          **{"edit-name": "Tower One"})
    assert status == 303 and not _queued()
    status, _said = _post(client, f"/groups/{group}", "edit-form", **{
        "edit-group_type": str(_type_id("industrial_park"))})
    assert status == 303 and _queued() == _ids(codes)
    db.session.execute(delete(PendingChange))
    db.session.commit()
    confirm = client.get(f"/groups/{group}/delete").get_data(as_text=True)
    assert "Its 3 memberships go with it" in page_text(confirm)
    form = find_form(confirm, action=f"/groups/{group}/delete")
    answer = client.post(form.action, data=form.data())
    assert answer.status_code == 303
    assert db.session.get(CustomerGroup, group) is None
    assert db.session.scalar(select(func.count()).select_from(customer_group_member)) == 0
    assert db.session.scalar(select(func.count()).select_from(Customer)
                             .where(Customer.code.in_(codes))) == 3
    assert _queued() == _ids(codes)
    logged = [(row.action, row.old, row.new) for row in _log("customer_group")]
    assert logged[0] == ("created", None, {"name": "Tower 1", "group_type": "building",
                                           "org_unit": None})
    assert [action for action, _old, _new in logged] == [
        "created", "members_added", "members_added", "members_added", "updated", "updated",
        "deleted"]
    assert logged[4][1:] == ({"name": "Tower 1"}, {"name": "Tower One"})
    assert logged[5][2] == {"group_type": "industrial_park"}
    assert logged[6][1] == {"name": "Tower One", "group_type": "industrial_park",
                            "org_unit": None, "members": 3}
    assert client.get(f"/groups/{group}").status_code == 404


def _upload(client: FlaskClient, group: int, name: str, data: bytes,
            action: str = "add") -> tuple[int, str]:
    html = client.get(f"/groups/{group}").get_data(as_text=True)
    form = find_form(html, form_id="upload-form").data()
    form["upload-action"] = action
    form["upload-file"] = (io.BytesIO(data), name)
    answer = client.post(f"/groups/{group}/members/upload", data=form,
                         content_type="multipart/form-data")
    if answer.status_code == 303:
        html = client.get(answer.headers["Location"]).get_data(as_text=True)
    else:
        html = answer.get_data(as_text=True)
    return answer.status_code, " ".join([*alerts(html), page_text(html)])


def _xlsx(*sheets: list[str]) -> bytes:
    book = Workbook()
    for number, cells in enumerate(sheets):
        sheet = book.active if number == 0 else book.create_sheet(f"extra{number}")
        for cell in cells:
            sheet.append([cell])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_uploads_report_every_bad_line_and_change_nothing(app: Flask) -> None:
    client = _client(app)
    _type(client, "building", "楼宇")
    _group(client, "Tower", "building")
    group = _group_id("Tower")
    good = _codes(4)
    log_size = len(_log("customer_group"))
    bad_files = {
        "unknown code": ("codes.csv", f"客户编码\n{good[0]}\nCNOSUCH\n".encode(),
                         "line 3: no customer CNOSUCH"),
        "duplicate line": ("codes.csv", f"{good[0]}\n{good[1]}\n{good[0]}\n".encode(),
                           f"line 3: {good[0]} is repeated (first on line 1)"),
        "wrong encoding": ("codes.csv", f"{good[0]}\n".encode() + b"\xff\xfe\xff\n",
                           "neither UTF-8 nor GBK"),
        "empty file": ("codes.csv", b"", "the file holds no customer code"),
        "not a workbook": ("codes.xlsx", b"PK\x03\x04garbage", "not a readable XLSX"),
        "hostile code": ("codes.csv", f"{good[0]}\n' OR 1=1\n<script>\n".encode(),
                         "line 2: no customer ' OR 1=1"),
    }
    for case, (name, data, why) in bad_files.items():
        status, said = _upload(client, group, name, data)
        assert status in (400, 409) and why in said, (case, said[:400])
        assert not _members(group), case
    assert len(_log("customer_group")) == log_size and not _queued()
    # An XLSX with extra sheets: the first is read, the others named in a note.
    status, said = _upload(client, group, "codes.xlsx",
                           _xlsx(["客户编码", *good[:3]], ["CNOSUCH"]))
    assert status == 303, said[:400]
    assert "only the first sheet (Sheet) was read; ignored: extra1" in said
    assert "3 customers added (0 were in the group already)" in said
    assert _members(group) == set(good[:3])
    status, said = _upload(client, group, "again.csv", "\n".join(good).encode())
    assert status == 303 and "1 customers added (3 were in the group already)" in said
    # GBK text is read too; removing a customer not in the group is a bad line.
    status, said = _upload(client, group, "out.csv", f"客户编码\n{good[0]}\n".encode("gbk"),
                           "remove")
    assert status == 303 and "1 customers removed" in said
    status, said = _upload(client, group, "out.csv", f"{good[1]}\n{good[0]}\n".encode(),
                           "remove")
    assert status == 409 and f"line 2: customer {good[0]} is not in the group" in said
    assert _members(group) == set(good[1:])
    logged = _log("customer_group")[log_size:]
    assert [(row.action, row.new["count"], sorted(row.new["codes"])) for row in logged] == [
        ("members_added", 3, sorted(good[:3])), ("members_added", 1, [good[3]]),
        ("members_removed", 1, [good[0]])]
    assert _queued() == _ids(good)


def test_a_customer_someone_else_adds_meanwhile_counts_as_already_in_the_group(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two people adding the same customer at once: the other's insert commits between
    this upload's check and its own. The upload counts that customer as in the group
    already (no error on the key) and adds, queues and logs only the rest."""
    client = _client(app)
    _type(client, "building", "楼宇")
    _group(client, "Tower", "building")
    group = _group_id("Tower")
    codes = _codes(2)
    (raced,) = _ids(codes[:1])
    resolve = members._resolve

    def resolve_then_someone_adds(*args: Any, **kwargs: Any) -> Any:
        found = resolve(*args, **kwargs)
        with db.engine.begin() as other:
            other.execute(insert(customer_group_member)
                          .values(group_id=group, customer_id=raced))
        return found

    monkeypatch.setattr(members, "_resolve", resolve_then_someone_adds)
    status, said = _upload(client, group, "codes.csv", "\n".join(codes).encode())
    assert status == 303 and "1 customers added (1 were in the group already)" in said, \
        said[:400]
    assert _members(group) == set(codes)
    assert _log("customer_group")[-1].new["codes"] == [codes[1]]
    assert _queued() == _ids(codes[1:])


def test_a_group_name_someone_else_took_meanwhile_is_a_conflict_not_an_error(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The name was free when checked, but another group of that name committed before
    this one's insert: the key refuses it, and the person hears that nothing was saved
    (409) instead of an internal error; the other group stays as it is."""
    client = _client(app)
    _type(client, "building", "楼宇")
    _group(client, "Tower", "building")
    monkeypatch.setattr(store, "_check_name_free", lambda *_args, **_kwargs: None)
    status, said = _group(client, "Tower", "building")
    assert status == 409, said[:400]
    assert "Someone changed the same data meanwhile: nothing was saved" in said
    assert db.session.scalar(select(func.count()).select_from(CustomerGroup)) == 1
    assert [row.action for row in _log("customer_group")] == ["created"]


def _scoped_codes(province: Province) -> tuple[list[str], list[str]]:
    """Customers inside and outside the scoped manager's org scope."""
    inside = customers_with_lines_in(communities_seen_by(province.department))
    every = set(db.session.scalars(select(Customer.code)))
    return sorted(inside)[:3], sorted(every - inside)[:2]


def test_a_channel_manager_keeps_the_groups_of_their_subtree_with_customers_in_scope(
        app: Flask, province: Province) -> None:
    analyst, manager = _client(app), _client(app, SCOPED)
    _type(analyst, "building", "楼宇")
    department = province.department
    other = db.session.scalar(select(OrgUnit.code).where(
        OrgUnit.kind == "department", OrgUnit.code != department).order_by(OrgUnit.code))
    assert _group(analyst, "Province-wide", "building")[0] == 303
    assert _group(analyst, "Elsewhere", "building", other)[0] == 303
    status, said = _group(manager, "Mine", "building", "")
    assert status == 403 and "only groups of a unit of your own org subtree" in said
    status, said = _group(manager, "Theirs", "building", other)
    assert status == 403
    assert _group(manager, "Mine", "building", department)[0] == 303
    listed = [row[0] for row in page_table(manager.get("/groups/").get_data(as_text=True)).rows]
    assert listed == ["Mine"]
    assert sorted(row[0] for row in page_table(
        analyst.get("/groups/").get_data(as_text=True)).rows) == [
        "Elsewhere", "Mine", "Province-wide"]
    assert [row[0] for row in page_table(analyst.get(
        "/groups/", query_string={"unit": other}).get_data(as_text=True)).rows] == ["Elsewhere"]
    for name in ("Province-wide", "Elsewhere"):
        assert manager.get(f"/groups/{_group_id(name)}").status_code == 404
        assert manager.get(f"/groups/{_group_id(name)}/export").status_code == 404
    mine = _group_id("Mine")
    inside, outside = _scoped_codes(province)
    status, said = _upload(manager, mine, "codes.csv", "\n".join([*inside, *outside]).encode())
    assert status == 409 and f"line 4: customer {outside[0]} is outside your org scope" in said
    assert f"line 5: customer {outside[1]} is outside your org scope" in said
    assert not _members(mine)
    assert _upload(manager, mine, "codes.csv", "\n".join(inside).encode())[0] == 303
    # An analyst adds a customer outside the manager's scope: the manager does not see it.
    assert _post(analyst, f"/groups/{mine}", "member-form",
                 **{"member-code": outside[0]})[0] == 303
    html = manager.get(f"/groups/{mine}").get_data(as_text=True)
    assert sorted(row[0] for row in page_table(html).rows) == inside
    assert "1 members outside your org scope are not shown" in page_text(html)
    status, said = _post(manager, f"/groups/{mine}", "edit-form", **{"edit-org_unit": ""})
    assert status == 403 and _members(mine) == {*inside, outside[0]}


def _classification(codes: set[str]) -> dict[str, list[str]]:
    """Each customer's statistical, marketing attribute, tier and stage, read here."""
    found = {code: ["", "", "", ""] for code in codes}
    order = ["statistical_attribute", "marketing_attribute", "service_tier",
             "lifecycle_stage"]
    for code, attribute, value in db.session.execute(text(
            "SELECT c.code, d.attribute, d.value FROM customer c JOIN customer_decision d "
            "ON d.customer_id = c.id WHERE c.code IN :codes").bindparams(
                bindparam("codes", expanding=True)), {"codes": sorted(codes)}):
        if attribute in order:
            found[code][order.index(attribute)] = value
    return found


def test_the_group_page_and_export_show_each_customers_classification(app: Flask) -> None:
    client = _client(app)
    _type(client, "building", "楼宇")
    _group(client, "Tower", "building")
    group = _group_id("Tower")
    codes = _codes(130, offset=7)
    assert _upload(client, group, "codes.csv", "\n".join(codes).encode())[0] == 303
    pages, url = [], f"/groups/{group}"
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append(page_table(html).rows)
        following = find_more(html)
        url = following
    assert [len(rows) for rows in pages] == [100, 30]
    shown = {row[0]: [row[1], *row[2:6]] for rows in pages for row in rows}
    expected = _classification(set(codes))
    names = dict(db.session.execute(select(Customer.code, Customer.name)
                                    .where(Customer.code.in_(codes))).all())
    assert shown == {code: [names[code], *expected[code]] for code in codes}
    assert "130 members" in page_text(client.get(f"/groups/{group}").get_data(as_text=True))
    answer = client.get(f"/groups/{group}/export?format=csv")
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Customer code" and len(rows) == 131
    assert {row[0]: row[1:] for row in rows[1:]} == shown
    answer = client.get(f"/groups/{group}/export?format=xlsx")
    sheet = load_workbook(io.BytesIO(answer.get_data()), read_only=True).active
    cells = [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert {row[0]: list(row[1:]) for row in cells[1:]} == shown
    assert client.get(f"/groups/{group}/export?format=pdf").status_code == 400
    # The list's filters: a bad one is named, a hostile one is only text.
    answer = client.get("/groups/?type=abc")
    assert answer.status_code == 400 and "type: Not a valid integer." in " ".join(
        alerts(answer.get_data(as_text=True)))
    for name, expected in (("' OR 1=1", []), ("%", []), ("tow", ["Tower"])):
        answer = client.get("/groups/", query_string={"name": name})
        assert answer.status_code == 200
        assert [row[0] for row in page_table(answer.get_data(as_text=True)).rows] == expected
    assert [row[3] for row in page_table(client.get(
        "/groups/", query_string={"type": _type_id("building")}).get_data(as_text=True)
    ).rows] == ["130"]
    assert client.get(f"/groups/{group}?after={'x' * 100}").status_code == 400


def find_more(html: str) -> str | None:
    """The "More" link of a page, if any."""
    marker = 'class="btn btn-outline-primary btn-sm mb-2" href="'
    start = html.find(marker)
    if start < 0:
        return None
    start += len(marker)
    return html[start:html.index('"', start)].replace("&amp;", "&")
