"""Errors under /api/ are JSON with a code and, for bad input, the fields at fault;
malformed, hostile and oversized requests get a 4xx, never a server error. The web UI
keeps its own error pages."""

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.domain import StaffRole
from tests.api.conftest import bearer, token_for
from tests.conftest import make_app
from webapp.api import register
from webapp.api.base import ApiBlueprint
from webapp.database import db
from webapp.models import StaffUser
from webapp.web.access import Permission, public

POSTS = ("/api/v1/subscribers", "/api/v1/what-if")


@pytest.fixture
def admin(app: Flask, create_user: Callable[..., StaffUser]) -> tuple[FlaskClient, dict]:
    create_user(StaffRole.ADMIN, "api-admin")
    return app.test_client(), bearer(token_for("api-admin"))


def _json_error(response: object, code: int) -> dict:
    assert response.status_code == code, response.get_data(as_text=True)[:300]  # type: ignore[attr-defined]
    assert response.mimetype == "application/json"  # type: ignore[attr-defined]
    body = response.get_json()  # type: ignore[attr-defined]
    assert body["code"] == code and body["status"] and body["message"]
    return body


def test_routing_errors_are_json_under_api_and_pages_elsewhere(
        admin: tuple[FlaskClient, dict]) -> None:
    client, headers = admin
    _json_error(client.get("/api/v1/no-such-thing", headers=headers), 404)
    _json_error(client.get("/api/nothing"), 404)
    refused = _json_error(client.delete("/api/v1/alerts", headers=headers), 405)
    assert refused["code"] == 405
    assert client.delete("/api/v1/alerts", headers=headers).headers["Allow"]
    _json_error(client.get("/api/v1/what-if", headers=headers), 405)
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_an_oversized_body_is_refused_before_it_is_read(
        app: Flask, admin: tuple[FlaskClient, dict]) -> None:
    client, headers = admin
    limit = app.config["API_MAX_BODY_BYTES"]
    for url in POSTS:
        body = _json_error(client.post(url, data=b"[" + b" " * limit + b"]",
                                       content_type="application/json", headers=headers), 413)
        assert str(limit) in body["message"]
    saved = app.config["API_MAX_BODY_BYTES"]
    app.config["API_MAX_BODY_BYTES"] = 100
    try:
        _json_error(client.post(POSTS[1], json={"subscriber": {"product": "x" * 200}},
                                headers=headers), 413)
        assert client.post(POSTS[1], json={"subscriber": {}},
                           headers=headers).status_code == 200
    finally:
        app.config["API_MAX_BODY_BYTES"] = saved


@pytest.mark.parametrize(("body", "content_type"), [
    (b"{not json", "application/json"),
    (b"\xff\xfe\x00{", "application/json"),
    (b'{"subscriber": {"arrears_days": ' + b"9" * 5000 + b"}}", "application/json"),
    (b"[" * 50_000 + b"]" * 50_000, "application/json"),
    (b"", "application/json"),
    (b"null", "application/json"),
    (b'"just text"', "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (b'{"subscriber": {"balance": NaN}, "records": [NaN, Infinity]}', "application/json"),
    (b"subscriber=1&records=2", "application/x-www-form-urlencoded"),
    (b"<xml/>", "text/xml"),
])
def test_a_malformed_body_is_a_400_naming_the_json(
        admin: tuple[FlaskClient, dict], body: bytes, content_type: str) -> None:
    client, headers = admin
    for url in POSTS:
        answer = _json_error(client.post(url, data=body, content_type=content_type,
                                         headers=headers), 400)
        assert set(answer["errors"]) == {"json"}, (url, answer)


def test_hostile_query_strings_are_4xx_never_5xx(admin: tuple[FlaskClient, dict]) -> None:
    client, headers = admin
    hostile = ["%00", "%ff%fe", "x" * 10_000, "1e309", "-0", "NaN", "'; DROP TABLE alert;--",
               "../../etc/passwd", "%E2%80%AE", "true", "[]", "{}", "9" * 400]
    for url in ("/api/v1/alerts", "/api/v1/audit"):
        for name in ("limit", "before", "date_from", "severity", "customer", "org_unit",
                     "version", "alert_type"):
            for value in hostile:
                response = client.get(f"{url}?{name}={value}", headers=headers)
                assert response.status_code in (200, 400), (url, name, value)
                if response.status_code == 400:
                    assert set(_json_error(response, 400)["errors"]["query"]) == {name}


def test_a_server_error_under_api_is_json_and_the_web_keeps_its_page(
        database_url: str, tmp_path: Path, app: Flask,
        admin: tuple[FlaskClient, dict]) -> None:
    _client, headers = admin
    other = make_app(database_url, tmp_path)
    other.config["PROPAGATE_EXCEPTIONS"] = False
    broken = ApiBlueprint("api-broken", __name__, url_prefix="/api/v1/broken")

    @broken.route("", methods=["GET"])
    @broken.guard(Permission.READ_ALERTS)
    def fails() -> None:
        raise RuntimeError("a bug")

    register(other, broken)

    @other.route("/broken-page")
    @public
    def page_fails() -> None:
        raise RuntimeError("a bug")

    try:
        body = _json_error(other.test_client().get("/api/v1/broken", headers=headers), 500)
        assert "a bug" not in body["message"]
        page = other.test_client().get("/broken-page")
        assert page.status_code == 500 and page.mimetype == "text/html"
    finally:
        with other.app_context():
            db.engine.dispose()
