"""Who may call what: every route of the API × every role, against a table written here
(not derived from ``webapp.web.access``), and every way a request can fail to
authenticate. The web UI's own table is ``tests/web/test_access.py``."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from engine.domain import StaffRole
from tests.api.conftest import bearer, token_for
from tests.conftest import make_app
from tests.web.helpers import sent_to_sign_in
from tests.web.lists import Province, classified_province, signed_in
from webapp.api import register, tokens
from webapp.api.base import ApiBlueprint
from webapp.database import db
from webapp.models import ApiToken, StaffUser

ADMIN, ANALYST, CHANNEL, AUDITOR, VIEWER = (
    StaffRole.ADMIN, StaffRole.ANALYST, StaffRole.CHANNEL_MANAGER, StaffRole.AUDITOR,
    StaffRole.VIEWER)
EVERYONE = frozenset(StaffRole)
#: Any valid token, or a person signed in to the web UI.
DOCUMENTATION = "documentation"

#: Endpoint → the roles whose tokens are allowed.
EXPECTED: dict[str, frozenset[StaffRole] | str] = {
    "api-docs.openapi_json": DOCUMENTATION,
    "api-docs.docs": DOCUMENTATION,
    "api-customers.show_customer": EVERYONE,
    "api-subscribers.show_subscriber": EVERYONE,
    "api-subscribers.submit_records": frozenset({ADMIN}),
    "api-alerts.list_alerts": EVERYONE,
    "api-target-lists.list_lists": EVERYONE,
    "api-target-lists.show_list": EVERYONE,
    "api-audit.list_entries": frozenset({ADMIN, AUDITOR}),
    "api-what-if.evaluate": frozenset({ADMIN, ANALYST, AUDITOR, VIEWER}),
    "api-runs.start": frozenset({ADMIN}),
    "api-runs.show_run": EVERYONE,
}
#: Values of the URL variables (things that do not exist answer 404 to those allowed).
ARGUMENTS: dict[str, object] = {"code": "C-NONE", "service_number": "19999999999",
                                "list_name": "by-region", "run_id": 987654}


@pytest.fixture(scope="module")
def province(app: Flask) -> Iterator[Province]:
    yield from classified_province(app)


@pytest.fixture(scope="module")
def secrets(province: Province) -> dict[StaffRole, str]:
    """A live token of every role (accounts seeing the whole province)."""
    return {role: token_for(role.value) for role in StaffRole}


def routes(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")]


def call(client: FlaskClient, app: Flask, rule: Rule, headers: dict[str, str]
         ) -> TestResponse:
    """GET the route, or POST it an empty JSON object when it takes no GET."""
    url = app.url_map.bind("localhost").build(
        rule.endpoint, {name: ARGUMENTS[name] for name in rule.arguments})
    assert rule.methods is not None
    if "GET" in rule.methods:
        return client.get(url, headers=headers)
    return client.post(url, json={}, headers=headers)


def _refused(response: TestResponse, code: int) -> bool:
    body = response.get_json(silent=True) or {}
    return response.status_code == code and body.get("code") == code \
        and bool(body.get("message"))


@pytest.mark.parametrize("role", list(StaffRole))
def test_every_route_answers_each_role_as_the_table_says(
        app: Flask, secrets: dict[StaffRole, str], role: StaffRole) -> None:
    client, wrong = app.test_client(), []
    for rule in routes(app):
        response = call(client, app, rule, bearer(secrets[role]))
        status, where = response.status_code, f"{rule.endpoint} {rule.rule}"
        expected = EXPECTED[rule.endpoint]
        if expected == DOCUMENTATION or role in expected:
            if status in (401, 403) or status >= 500:
                wrong.append(f"{where}: allowed, but answered {status}")
        elif not _refused(response, 403):
            wrong.append(f"{where}: not allowed, but answered {status}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Bearer not-a-token", "Basic YWRtaW46c2VjcmV0",
    "bearer cct_" + "A" * 43, "Bearer " + "x" * 5000, "Token cct_abc",
])
def test_a_request_without_a_live_token_answers_401_everywhere(
        app: Flask, secrets: dict[StaffRole, str], header: str | None) -> None:
    client = app.test_client()
    headers = {} if header is None else {"Authorization": header}
    for rule in routes(app):
        response = call(client, app, rule, headers)
        assert _refused(response, 401), (rule.endpoint, response.status_code)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_tokens_and_deactivated_accounts_answer_401(
        app: Flask, province: Province) -> None:
    client = app.test_client()
    revoked, deactivated = token_for(ADMIN.value), token_for(ANALYST.value)
    assert client.get("/api/v1/alerts", headers=bearer(revoked)).status_code == 200
    runner = app.test_cli_runner()
    token_id = db.session.scalar(select(ApiToken.id).where(
        ApiToken.token_hash == tokens.digest(revoked)))
    assert runner.invoke(args=["tokens", "revoke", str(token_id)]).exit_code == 0
    db.session.execute(update(StaffUser).where(StaffUser.username == ANALYST.value)
                       .values(active=False))
    db.session.commit()
    try:
        for secret in (revoked, deactivated):
            for rule in routes(app):
                assert _refused(call(client, app, rule, bearer(secret)), 401), rule.endpoint
    finally:
        db.session.execute(update(StaffUser).where(StaffUser.username == ANALYST.value)
                           .values(active=True))
        db.session.commit()


def test_the_web_session_opens_the_docs_but_no_data(app: Flask, province: Province) -> None:
    browser = signed_in(app, VIEWER.value)
    docs = browser.get("/api/v1/docs")
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.get_data(as_text=True)
    assert browser.get("/api/v1/openapi.json").get_json()["info"]["version"] == "v1"
    for rule in routes(app):
        if EXPECTED[rule.endpoint] != DOCUMENTATION:
            assert _refused(call(browser, app, rule, {}), 401), rule.endpoint
    anonymous = app.test_client()
    assert sent_to_sign_in(anonymous.get("/api/v1/docs", headers={"Accept": "text/html"}))
    assert _refused(anonymous.get("/api/v1/openapi.json"), 401)


def test_every_route_has_an_entry_in_the_table(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in routes(app)}
    assert endpoints - set(EXPECTED) == set(), "routes missing from EXPECTED"
    assert set(EXPECTED) - endpoints == set(), "EXPECTED names routes that do not exist"


def test_an_endpoint_declaring_no_permission_answers_403(
        database_url: str, tmp_path: Path, province: Province,
        secrets: dict[StaffRole, str]) -> None:
    other = make_app(database_url, tmp_path)
    forgotten = ApiBlueprint("api-forgotten", __name__, url_prefix="/api/v1/forgotten")

    @forgotten.route("", methods=["GET", "POST"])
    def anything() -> dict[str, str]:
        return {"opened": "yes"}

    register(other, forgotten)
    client = other.test_client()
    try:
        for method in (client.get, client.post):
            assert _refused(method("/api/v1/forgotten", headers=bearer(secrets[ADMIN])), 403)
            assert _refused(method("/api/v1/forgotten"), 401)
    finally:
        with other.app_context():
            db.engine.dispose()
