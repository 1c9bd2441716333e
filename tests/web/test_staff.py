"""The staff pages: create, edit, deactivate and reactivate, reset a password, the list's
filters; every refusal leaves the accounts and the change log as they were; deactivating
stops sign-in and the API tokens; the command line shares the rules."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from werkzeug.security import check_password_hash

from engine.domain import StaffRole
from tests.api.conftest import bearer, token_for
from tests.web.conftest import PASSWORD, login
from tests.web.helpers import alerts, find_form, page_text
from tests.web.lists import page_table
from tests.web.test_orgtree import _post
from webapp.database import db
from webapp.models import AdminChange, StaffUser
from webapp.orgtree import staff, tree

NEW_PASSWORD = "a much longer secret"


@pytest.fixture
def org(app: Flask, engine: Engine) -> dict[str, str]:
    """A province → city → centre → department branch (kind → code); their change log
    rows are left out of the staff tests' (the log is append-only)."""
    conn, now = db.session.connection(), datetime.now(UTC)
    parent = None
    codes = {}
    for kind, channel in (("province", None), ("city", None), ("centre", None),
                          ("department", "public")):
        codes[kind] = tree.add_unit(conn, code=f"S-{kind}", name=f"{kind} 单位", kind=kind,
                                    parent_code=parent, channel=channel, staff_id=None, now=now)
        parent = codes[kind]
    db.session.commit()
    return codes


@pytest.fixture
def admin(app: Flask, org: dict[str, str], create_user: Callable[..., StaffUser]
          ) -> tuple[FlaskClient, int]:
    user = create_user(StaffRole.ADMIN, "boss")
    client = app.test_client()
    login(client, "boss")
    return client, user.id


def _log() -> list[tuple[Any, ...]]:
    rows = db.session.execute(select(AdminChange.staff_user_id, AdminChange.subject,
                                     AdminChange.subject_key, AdminChange.action,
                                     AdminChange.old, AdminChange.new)
                              .where(AdminChange.subject == "staff_user")
                              .order_by(AdminChange.id)).all()
    db.session.rollback()
    return [tuple(row) for row in rows]


def _accounts() -> list[tuple[Any, ...]]:
    rows = db.session.execute(select(StaffUser.username, StaffUser.display_name,
                                     StaffUser.role, StaffUser.org_unit_id, StaffUser.locale,
                                     StaffUser.active, StaffUser.password_hash)
                              .order_by(StaffUser.username)).all()
    db.session.rollback()
    return [tuple(row) for row in rows]


def _person(username: str) -> StaffUser:
    db.session.expire_all()
    return db.session.scalar(select(StaffUser).where(StaffUser.username == username))


NEW = {"username": "li.na", "display_name": "李娜", "role": "channel_manager",
       "org_unit": "S-department", "locale": "zh", "password": NEW_PASSWORD,
       "confirm": NEW_PASSWORD}


def test_an_admin_creates_a_scoped_account_that_can_sign_in(
        app: Flask, admin: tuple[FlaskClient, int]) -> None:
    client, admin_id = admin
    response = _post(client, "/staff/new", "new-account", **NEW)
    assert response.status_code == 303, alerts(response.get_data(as_text=True))
    created = _person("li.na")
    assert response.headers["Location"].endswith(f"/staff/{created.id}")
    assert (created.display_name, created.role, created.locale, created.active) == (
        "李娜", StaffRole.CHANNEL_MANAGER, "zh", True)
    assert created.org_unit_id == tree.load_tree(db.session.connection()).by_code(
        "S-department").id
    assert created.password_hash.startswith("scrypt:")
    assert check_password_hash(created.password_hash, NEW_PASSWORD)
    assert _log() == [(admin_id, "staff_user", "li.na", "created", None, {
        "username": "li.na", "display_name": "李娜", "role": "channel_manager",
        "org_unit": "S-department", "locale": "zh", "active": True})]
    other = app.test_client()
    login(other, "li.na", NEW_PASSWORD)
    listed = page_table(client.get("/staff/").get_data(as_text=True)).rows
    assert ["li.na", "李娜", "channel manager", "S-department department 单位", "zh",
            "active"] in listed


def test_refused_accounts_are_not_created(app: Flask, admin: tuple[FlaskClient, int]) -> None:
    client, _ = admin
    before = (_accounts(), _log())
    tree.add_unit(db.session.connection(), code="S-old", name="old", kind="department",
                  parent_code="S-centre", channel="business", staff_id=None,
                  now=datetime.now(UTC))
    tree.retire_unit(db.session.connection(), "S-old", staff_id=None, now=datetime.now(UTC))
    db.session.commit()
    for changes, message in (
            ({"password": "short", "confirm": "short"}, "10"),
            ({"confirm": "something else entirely"}, "The two passwords differ."),
            ({"password": "p" * 300, "confirm": "p" * 300}, "256"),
            ({"username": "boss"}, "boss exists already."),
            ({"username": "two words"}, "without spaces"),
            ({"username": "u" * 65}, "64"),
            ({"display_name": "名" * 10_000}, "100"),
            ({"display_name": "a\x00b"}, "control or invisible"),
            ({"display_name": "\u202eevil"}, "control or invisible"),
            ({"org_unit": "NO-SUCH"}, "There is no org unit NO-SUCH."),
            ({"org_unit": "' OR 1=1"}, "There is no org unit ' OR 1=1."),
            ({"org_unit": "S-old"}, "S-old is retired: no one can be scoped to it."),
            ({"role": "superuser"}, "Not a valid choice"),
            ({"locale": "fr"}, "Not a valid choice")):
        response = _post(client, "/staff/new", "new-account", **{**NEW, **changes})
        html = response.get_data(as_text=True)
        assert response.status_code == 400, changes
        assert message in page_text(html), (changes, alerts(html))
        assert (_accounts(), _log()) == before, changes


def test_editing_logs_only_what_changed(app: Flask, admin: tuple[FlaskClient, int],
                                        create_user: Callable[..., StaffUser]) -> None:
    client, admin_id = admin
    person = create_user(StaffRole.VIEWER, "wang")
    page = f"/staff/{person.id}"
    response = _post(client, page, "edit-account", **{
        "account-display_name": "王五", "account-role": "analyst",
        "account-org_unit": "S-city", "account-locale": "en"})
    assert response.status_code == 303
    response = _post(client, page, "edit-account")
    assert response.status_code == 303
    assert "Nothing changed." in alerts(client.get(page).get_data(as_text=True))
    response = _post(client, page, "edit-account", **{"account-org_unit": ""})
    assert response.status_code == 303
    changed = _person("wang")
    assert (changed.display_name, changed.role, changed.org_unit_id, changed.locale) == (
        "王五", StaffRole.ANALYST, None, "en")
    assert _log() == [
        (admin_id, "staff_user", "wang", "updated",
         {"display_name": "viewer person", "role": "viewer", "org_unit": None},
         {"display_name": "王五", "role": "analyst", "org_unit": "S-city"}),
        (admin_id, "staff_user", "wang", "updated", {"org_unit": "S-city"},
         {"org_unit": None}),
    ]
    before = (_accounts(), _log())
    for values, message in (({"account-org_unit": "NOPE"}, "There is no org unit NOPE."),
                            ({"account-display_name": ""}, "This field is required."),
                            ({"account-display_name": "x\ty"}, "control or invisible")):
        response = _post(client, page, "edit-account", **values)
        assert response.status_code == 400, values
        assert message in page_text(response.get_data(as_text=True)), values
        assert (_accounts(), _log()) == before
    assert client.get("/staff/987654").status_code == 404


def test_deactivating_stops_sign_in_and_api_tokens_until_reactivated(
        app: Flask, admin: tuple[FlaskClient, int],
        create_user: Callable[..., StaffUser]) -> None:
    client, admin_id = admin
    person = create_user(StaffRole.VIEWER, "zhou")
    secret = token_for("zhou")
    api = app.test_client()
    assert api.get("/api/v1/alerts", headers=bearer(secret)).status_code == 200
    signed_in = app.test_client()
    login(signed_in, "zhou")

    page = f"/staff/{person.id}"
    assert _post(client, page, "deactivate").status_code == 303
    assert _person("zhou").active is False
    assert api.get("/api/v1/alerts", headers=bearer(secret)).status_code == 401
    # The open session ends at its next request; signing in again is refused.
    assert signed_in.get("/").status_code == 302
    fresh = app.test_client()
    token = find_form(fresh.get("/login").get_data(as_text=True), action="").get("csrf_token")
    refused = fresh.post("/login", data={"username": "zhou", "password": PASSWORD,
                                         "csrf_token": token})
    assert refused.status_code != 302
    assert "zhou" in page_text(client.get("/staff/", query_string={"active": "no"})
                               .get_data(as_text=True))
    response = _post(client, page, "reactivate")
    assert response.status_code == 303
    assert api.get("/api/v1/alerts", headers=bearer(secret)).status_code == 200
    login(app.test_client(), "zhou")
    assert _log() == [
        (admin_id, "staff_user", "zhou", "deactivated", {"active": True}, {"active": False}),
        (admin_id, "staff_user", "zhou", "reactivated", {"active": False}, {"active": True}),
    ]


def test_an_admin_cannot_deactivate_themself_nor_remove_the_last_admin(
        app: Flask, admin: tuple[FlaskClient, int],
        create_user: Callable[..., StaffUser]) -> None:
    client, admin_id = admin
    before = (_accounts(), _log())
    response = _post(client, f"/staff/{admin_id}", "deactivate")
    assert response.status_code == 409
    assert "You cannot deactivate your own account." in alerts(response.get_data(as_text=True))
    response = _post(client, f"/staff/{admin_id}", "edit-account", **{"account-role": "viewer"})
    assert response.status_code == 409
    assert "boss is the last active administrator" in page_text(response.get_data(as_text=True))
    assert (_accounts(), _log()) == before
    # With a second administrator, the first may step down; the second then cannot.
    second = create_user(StaffRole.ADMIN, "deputy")
    assert _post(client, f"/staff/{admin_id}", "edit-account",
                 **{"account-role": "auditor"}).status_code == 303
    with pytest.raises(staff.StaffRefusal, match="deputy is the last active administrator"):
        staff.deactivate(db.session, _person("deputy"), by_id=None, now=datetime.now(UTC))
    db.session.rollback()
    assert _person("deputy").active and second.id


def test_a_password_reset_takes_effect_and_logs_no_secret(
        app: Flask, admin: tuple[FlaskClient, int],
        create_user: Callable[..., StaffUser]) -> None:
    client, admin_id = admin
    person = create_user(StaffRole.AUDITOR, "sun")
    page = f"/staff/{person.id}"
    before = (_accounts(), _log())
    for password, confirm, message in (("short", "short", "10"),
                                       (NEW_PASSWORD, "different", "differ")):
        response = _post(client, page, "reset-password", **{"password-password": password,
                                                            "password-confirm": confirm})
        assert response.status_code == 400
        assert message in page_text(response.get_data(as_text=True))
        assert (_accounts(), _log()) == before
    response = _post(client, page, "reset-password", **{"password-password": NEW_PASSWORD,
                                                        "password-confirm": NEW_PASSWORD})
    assert response.status_code == 303
    login(app.test_client(), "sun", NEW_PASSWORD)
    assert check_password_hash(_person("sun").password_hash, NEW_PASSWORD)
    assert not check_password_hash(_person("sun").password_hash, PASSWORD)
    assert _log() == [(admin_id, "staff_user", "sun", "password_reset", None, None)]
    stored = " ".join(str(row) for row in db.session.execute(
        select(AdminChange.old, AdminChange.new, AdminChange.action)))
    assert NEW_PASSWORD not in stored and "scrypt" not in stored


def test_the_list_filters_by_role_state_and_text_in_pages(
        app: Flask, admin: tuple[FlaskClient, int],
        create_user: Callable[..., StaffUser]) -> None:
    client, _ = admin
    for number in range(5):
        create_user(StaffRole.VIEWER, f"viewer-{number}")
    create_user(StaffRole.ANALYST, "Analyst_One", active=False)

    def names(**query: str) -> list[str]:
        response = client.get("/staff/", query_string=query)
        assert response.status_code == 200
        return [row[0] for row in page_table(response.get_data(as_text=True)).rows]

    assert names(role="viewer") == [f"viewer-{number}" for number in range(5)]
    assert names(active="no") == ["Analyst_One"]
    assert names(q="ANALYST_") == ["Analyst_One"]
    assert names(q="%") == []
    assert names(q="boss", active="yes", role="admin") == ["boss"]
    rows, following = staff.staff_page(db.session, role=StaffRole.VIEWER, size=2)
    assert [row.user.username for row in rows] == ["viewer-0", "viewer-1"]
    rows, _ = staff.staff_page(db.session, role=StaffRole.VIEWER, size=2, after=following)
    assert [row.user.username for row in rows] == ["viewer-2", "viewer-3"]
    assert names(role="viewer", after="viewer-3") == ["viewer-4"]
    for bad in ({"role": "king"}, {"active": "maybe"}, {"q": "a\x00"}, {"q": "q" * 65}):
        assert client.get("/staff/", query_string=bad).status_code == 400, bad


def test_the_command_line_shares_the_rules_and_is_logged(app: Flask, org: dict[str, str]
                                                         ) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "cli-user", "--role", "viewer",
                                 "--password", "short"])
    assert result.exit_code != 0
    assert "The password needs at least 10 characters." in result.output
    result = runner.invoke(args=["users", "create", "cli-user", "--role", "viewer",
                                 "--org", "S-city", "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert _log() == [(None, "staff_user", "cli-user", "created", None, {
        "username": "cli-user", "display_name": "cli-user", "role": "viewer",
        "org_unit": "S-city", "locale": "zh", "active": True})]
