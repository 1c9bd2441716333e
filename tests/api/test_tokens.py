"""API tokens: issued and revoked from the web page and the CLI, stored hashed, shown once."""

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, text, update

from engine.domain import StaffRole
from tests.api.conftest import bearer
from tests.web.conftest import csrf_token
from tests.web.helpers import alerts, redirect_target
from webapp.api import tokens
from webapp.database import db
from webapp.models import ApiToken, StaffUser

SECRET = re.compile(r"cct_[A-Za-z0-9_-]{43}")


def _issue_on_page(admin: FlaskClient, name: str, owner: StaffUser) -> tuple[int, str]:
    page = admin.get("/api-tokens/")
    response = admin.post("/api-tokens/", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "name": name,
        "owner": str(owner.id)})
    return response.status_code, response.get_data(as_text=True)


def test_the_page_shows_the_secret_once_and_keeps_only_its_digest(
        app: Flask, client_as: Callable[[StaffRole], FlaskClient],
        create_user: Callable[..., StaffUser]) -> None:
    admin = client_as(StaffRole.ADMIN)
    crm = create_user(StaffRole.VIEWER, "crm-system")
    status, html = _issue_on_page(admin, "CRM nightly sync", crm)
    assert status == 200
    secrets = SECRET.findall(html)
    assert len(secrets) == 1
    secret = secrets[0]
    assert secret not in admin.get("/api-tokens/").get_data(as_text=True)

    row = db.session.scalars(select(ApiToken)).one()
    assert (row.name, row.staff_user_id, row.prefix) == ("CRM nightly sync", crm.id, secret[:12])
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    with db.engine.connect() as conn:
        stored = " ".join(str(value) for value in conn.execute(text(
            "SELECT * FROM api_token")).one())
    assert secret not in stored and secret[12:20] not in stored

    response = app.test_client().get("/api/v1/alerts", headers=bearer(secret))
    assert response.status_code == 200


def test_revoking_on_the_page_refuses_the_token_from_then_on(
        app: Flask, client_as: Callable[[StaffRole], FlaskClient],
        create_user: Callable[..., StaffUser]) -> None:
    admin = client_as(StaffRole.ADMIN)
    owner = create_user(StaffRole.ANALYST, "bi-tool")
    _status, html = _issue_on_page(admin, "BI tool", owner)
    secret = SECRET.findall(html)[0]
    api = app.test_client()
    assert api.get("/api/v1/alerts", headers=bearer(secret)).status_code == 200
    token = db.session.scalars(select(ApiToken)).one()
    token_id = token.id
    page = admin.get("/api-tokens/").get_data(as_text=True)
    revoked = admin.post(f"/api-tokens/{token_id}/revoke",
                         data={"csrf_token": csrf_token(page)})
    assert redirect_target(revoked)[0] == "/api-tokens/"
    assert any("is revoked" in message for message in alerts(
        admin.get("/api-tokens/").get_data(as_text=True)))
    assert api.get("/api/v1/alerts", headers=bearer(secret)).status_code == 401
    db.session.expire_all()
    token = db.session.get(ApiToken, token_id)
    assert token is not None and token.revoked_at is not None
    assert token.revoked_by_id is not None
    again = admin.post(f"/api-tokens/{token_id}/revoke", data={"csrf_token": csrf_token(page)})
    assert again.status_code == 302
    assert admin.post("/api-tokens/987654/revoke",
                      data={"csrf_token": csrf_token(page)}).status_code == 404


def test_the_issue_form_refuses_what_it_cannot_use(
        client_as: Callable[[StaffRole], FlaskClient],
        create_user: Callable[..., StaffUser]) -> None:
    admin = client_as(StaffRole.ADMIN)
    owner = create_user(StaffRole.VIEWER, "crm")
    gone = create_user(StaffRole.VIEWER, "gone", active=False)
    for name, who in [("", owner), ("x" * 101, owner), ("bell \x07", owner), ("ok", gone)]:
        status, html = _issue_on_page(admin, name, who)
        assert status == 400 and not SECRET.findall(html), (name, who.username)
    assert db.session.scalars(select(ApiToken)).all() == []


def test_the_cli_issues_lists_and_revokes(
        app: Flask, create_user: Callable[..., StaffUser]) -> None:
    create_user(StaffRole.AUDITOR, "evidence-export")
    create_user(StaffRole.VIEWER, "retired", active=False)
    runner = app.test_cli_runner()
    created = runner.invoke(args=["tokens", "create", "Evidence export",
                                  "--user", "evidence-export"])
    assert created.exit_code == 0, created.output
    secret = SECRET.findall(created.stdout)[0]
    assert created.stdout.strip() == secret  # the secret alone on stdout, for scripts
    listed = runner.invoke(args=["tokens", "list"])
    assert "Evidence export" in listed.output and secret[:12] in listed.output
    assert secret not in listed.output and "never" in listed.output
    api = app.test_client()
    assert api.get("/api/v1/audit", headers=bearer(secret)).status_code == 200
    assert "never" not in runner.invoke(args=["tokens", "list"]).output

    token_id = db.session.scalar(select(ApiToken.id))
    assert runner.invoke(args=["tokens", "revoke", str(token_id)]).exit_code == 0
    assert "revoked" in runner.invoke(args=["tokens", "list"]).output
    assert api.get("/api/v1/audit", headers=bearer(secret)).status_code == 401
    for args, reason in [
        (["tokens", "revoke", str(token_id)], "revoked already"),
        (["tokens", "revoke", "987654"], "no token #987654"),
        (["tokens", "create", "x", "--user", "nobody"], "no staff account"),
        (["tokens", "create", "x", "--user", "retired"], "deactivated"),
        (["tokens", "create", " ", "--user", "evidence-export"], "the name must be"),
    ]:
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and reason in result.output, (args, result.output)


def test_last_use_is_recorded_to_the_minute(
        app: Flask, engine: Engine, create_user: Callable[..., StaffUser]) -> None:
    owner = create_user(StaffRole.VIEWER, "call-centre")
    issued = tokens.issue(db.session, owner, "call centre", datetime.now(UTC))
    db.session.commit()
    token_id, api = issued.token.id, app.test_client()

    def last_used() -> datetime | None:
        with engine.connect() as conn:
            value = conn.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token_id))
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value

    assert last_used() is None
    api.get("/api/v1/alerts", headers=bearer(issued.secret))
    first = last_used()
    assert first is not None and datetime.now(UTC) - first < timedelta(minutes=1)
    api.get("/api/v1/alerts", headers=bearer(issued.secret))
    assert last_used() == first
    earlier = first - timedelta(minutes=5)
    with engine.begin() as conn:
        conn.execute(update(ApiToken).where(ApiToken.id == token_id)
                     .values(last_used_at=earlier))
    api.get("/api/v1/alerts", headers=bearer(issued.secret))
    assert last_used() > earlier  # type: ignore[operator]


def test_a_token_acts_with_its_accounts_current_role(
        app: Flask, create_user: Callable[..., StaffUser]) -> None:
    owner = create_user(StaffRole.VIEWER, "promoted")
    issued = tokens.issue(db.session, owner, "reports", datetime.now(UTC))
    db.session.commit()
    api = app.test_client()
    assert api.get("/api/v1/audit", headers=bearer(issued.secret)).status_code == 403
    db.session.execute(update(StaffUser).where(StaffUser.id == owner.id)
                       .values(role=StaffRole.AUDITOR))
    db.session.commit()
    assert api.get("/api/v1/audit", headers=bearer(issued.secret)).status_code == 200
