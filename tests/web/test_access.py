"""Who may open what: every route of the application × every role, against a table
written here (not derived from ``webapp.web.access``), so a change of permissions or a
new route has to be decided in this file too."""

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from engine.domain import StaffRole
from tests.web.conftest import csrf_token
from tests.web.helpers import redirect_target, sent_to_sign_in

ADMIN, ANALYST, CHANNEL, AUDITOR, VIEWER = (
    StaffRole.ADMIN, StaffRole.ANALYST, StaffRole.CHANNEL_MANAGER, StaffRole.AUDITOR,
    StaffRole.VIEWER)
EVERYONE = frozenset(StaffRole)
READERS = frozenset({ADMIN, ANALYST, AUDITOR, VIEWER})
EDITORS = frozenset({ADMIN, ANALYST})
#: Open to people not signed in.
PUBLIC = "public"

AUDITORS = frozenset({StaffRole.ADMIN, StaffRole.AUDITOR})
#: Who moves customers and pins values.
MANAGERS = frozenset({ADMIN, CHANNEL})

#: Endpoint → the roles allowed (or PUBLIC).
EXPECTED: dict[str, frozenset[StaffRole] | str] = {
    "auth.login": PUBLIC,
    "auth.language": PUBLIC,
    "auth.logout": EVERYONE,
    "home.index": EVERYONE,
    "home.run_now": frozenset({ADMIN}),
    "home.run_status": EVERYONE,
    "rules.index": READERS,
    "rules.history": READERS,
    "rules.diff": READERS,
    "rules.export": READERS,
    "rules.edit": EDITORS,
    "rules.save": EDITORS,
    "rules.discard": EDITORS,
    "rules.tests": EDITORS,
    "rules.preview": EDITORS,
    "rules.preview_status": EDITORS,
    "rules.import_file": EDITORS,
    "rules.publish": EDITORS,
    "rules.rollback": EDITORS,
    "audit.index": AUDITORS,
    "audit.export": AUDITORS,
    "audit.verify": AUDITORS,
    "tokens.index": frozenset({ADMIN}),
    "tokens.issue": frozenset({ADMIN}),
    "tokens.revoke": frozenset({ADMIN}),
    "customers.index": EVERYONE,
    "customers.show": EVERYONE,
    "customers.pin_value": MANAGERS,
    "customers.unpin_value": MANAGERS,
    "division.index": MANAGERS,
    "division.move": MANAGERS,
    "division.upload": MANAGERS,
    "alerts.index": EVERYONE,
    "alerts.export": EVERYONE,
    "alerts.acknowledge": frozenset({ADMIN, CHANNEL, VIEWER}),
    "targets.index": EVERYONE,
    "targets.show": EVERYONE,
    "targets.export": EVERYONE,
    "orgtree.index": frozenset({ADMIN}),
    "orgtree.unit": frozenset({ADMIN}),
    "orgtree.add": frozenset({ADMIN}),
    "orgtree.rename": frozenset({ADMIN}),
    "orgtree.move": frozenset({ADMIN}),
    "orgtree.retire": frozenset({ADMIN}),
    "orgtree.delete": frozenset({ADMIN}),
    "orgtree.billing_areas": frozenset({ADMIN}),
    "orgtree.add_billing_area": frozenset({ADMIN}),
    "staff.index": frozenset({ADMIN}),
    "staff.new": frozenset({ADMIN}),
    "staff.create": frozenset({ADMIN}),
    "staff.show": frozenset({ADMIN}),
    "staff.update": frozenset({ADMIN}),
    "staff.reset_password": frozenset({ADMIN}),
    "staff.deactivate": frozenset({ADMIN}),
    "staff.reactivate": frozenset({ADMIN}),
    "adminlog.index": AUDITORS,
    "lineplant.index": MANAGERS,
    "lineplant.box": MANAGERS,
    "lineplant.segment": MANAGERS,
    "lineplant.preview_box": MANAGERS,
    "lineplant.preview_segment": MANAGERS,
    "lineplant.upload": MANAGERS,
    "lineplant.confirm": MANAGERS,
    "groups.index": frozenset({ADMIN, ANALYST, CHANNEL}),
    "groups.create": frozenset({ADMIN, ANALYST, CHANNEL}),
    "groups.show": frozenset({ADMIN, ANALYST, CHANNEL}),
    "groups.update": frozenset({ADMIN, ANALYST, CHANNEL}),
    "groups.delete": frozenset({ADMIN, ANALYST, CHANNEL}),
    "groups.add_member": frozenset({ADMIN, ANALYST, CHANNEL}),
    "groups.remove_member": frozenset({ADMIN, ANALYST, CHANNEL}),
    "groups.upload_members": frozenset({ADMIN, ANALYST, CHANNEL}),
    "groups.export": frozenset({ADMIN, ANALYST, CHANNEL}),
    "groups.type_list": frozenset({ADMIN, ANALYST, CHANNEL}),
    "groups.add_type": frozenset({ADMIN, ANALYST, CHANNEL}),
    "groups.rename_type": frozenset({ADMIN, ANALYST, CHANNEL}),
    "groups.delete_type": frozenset({ADMIN, ANALYST, CHANNEL}),
    "reports.index": EVERYONE,
    "reports.population_report": EVERYONE,
    "reports.division_report": EVERYONE,
    "reports.stock_report": EVERYONE,
    "reports.groups_report": EVERYONE,
    "reports.rules_report": EVERYONE,
}

#: Values of the URL variables; a preview job that does not exist (its page answers 404
#: to whoever may see it, 403 to the others).
ARGUMENTS = {"name": "service_tier", "version": 1, "job_id": 987654, "code": "en",
             "run_id": 987654, "token_id": 987654, "alert_id": 987654,
             "list_name": "by-region", "staff_id": 987654, "group_id": 987654,
             "type_id": 987654}
QUERIES = {"rules.diff": {"old": "1", "new": "1"}}
#: Statuses an allowed person may get, depending on the data and the (empty) form.
ALLOWED_STATUSES = {200, 302, 400, 404, 409, 422}


@pytest.fixture
def published(app: Flask, engine: object) -> None:
    result = app.test_cli_runner().invoke(args=["rules", "publish"])
    assert result.exit_code == 0, result.output


def routes(app: Flask) -> list[Rule]:
    """The web UI's routes. The JSON API (``/api/``) is not a web page: it takes tokens,
    never the sign-in, and has its own route × role table (``tests/api/test_access.py``)."""
    return [rule for rule in app.url_map.iter_rules()
            if rule.endpoint != "static" and not rule.endpoint.startswith("bootstrap.")
            and not rule.rule.startswith("/api/")]


def request(client: FlaskClient, app: Flask, rule: Rule, token: str) -> TestResponse:
    """GET the route, or POST it (with a valid CSRF token and nothing else) when it
    takes no GET."""
    values = {name: ARGUMENTS[name] for name in rule.arguments}
    url = app.url_map.bind("localhost").build(rule.endpoint, {
        **values, **QUERIES.get(rule.endpoint, {})})
    assert rule.methods is not None
    if "GET" in rule.methods:
        return client.get(url)
    return client.post(url, data={"csrf_token": token})


def allowed(endpoint: str, role: StaffRole | None) -> bool:
    expected = EXPECTED[endpoint]
    return expected == PUBLIC or (role is not None and role in expected)


@pytest.mark.parametrize("role", [None, *StaffRole], ids=lambda role: role or "anonymous")
def test_every_route_answers_each_role_as_the_table_says(
        app: Flask, published: None, client_as: Callable[[StaffRole], FlaskClient],
        role: StaffRole | None) -> None:
    wrong = []
    for rule in routes(app):
        # A fresh client per route: a POST (language, sign-out) cannot affect the next.
        client = app.test_client() if role is None else client_as(role)
        token = csrf_token(client.get("/login" if role is None else "/").get_data(as_text=True))
        response = request(client, app, rule, token)
        status, where = response.status_code, f"{rule.endpoint} {rule.rule}"
        if allowed(rule.endpoint, role):
            if status not in ALLOWED_STATUSES or sent_to_sign_in(response):
                wrong.append(f"{where}: allowed, but answered {status} "
                             f"{response.headers.get('Location', '')}")
        elif role is None:
            if not sent_to_sign_in(response):
                wrong.append(f"{where}: anonymous must be sent to /login, got {status}")
            else:
                _, query = redirect_target(response)
                if not query["next"][0].startswith(rule.rule.split("<")[0]):
                    wrong.append(f"{where}: next={query['next']}")
        elif status != 403:
            wrong.append(f"{where}: not allowed, but answered {status}")
    assert not wrong, "\n".join(wrong)


def test_signing_out_ends_the_session_of_every_role(
        app: Flask, client_as: Callable[[StaffRole], FlaskClient]) -> None:
    for role in StaffRole:
        client = client_as(role)
        response = client.post("/logout", data={"csrf_token": csrf_token(
            client.get("/").get_data(as_text=True))})
        assert redirect_target(response) == ("/login", {}), role
        assert sent_to_sign_in(client.get("/")), role


def test_every_route_has_an_entry_in_the_table(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in routes(app)}
    assert endpoints - set(EXPECTED) == set(), "routes missing from EXPECTED"
    assert set(EXPECTED) - endpoints == set(), "EXPECTED names routes that do not exist"

