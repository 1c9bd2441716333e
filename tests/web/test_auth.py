"""Signing in and out, CSRF, redirects after sign-in, security headers, the sign-in rate
limit and the choice of language."""

import re
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from engine.domain import StaffRole
from tests.web.conftest import PASSWORD, csrf_token, login
from tests.web.helpers import alerts, redirect_target, sent_to_sign_in
from webapp.database import db
from webapp.models import StaffUser
from webapp.web.extensions import limiter

WRONG = "Wrong username or password"


@pytest.fixture
def client(app: Flask, engine: object) -> FlaskClient:
    """A client not signed in, reading English pages."""
    client = app.test_client()
    choose_language(client, "en")
    return client


def choose_language(client: FlaskClient, code: str) -> TestResponse:
    return client.post(f"/language/{code}", data={"csrf_token": token_of(client)})


def token_of(client: FlaskClient) -> str:
    """A CSRF token from a page of the client's session (the home page once signed in)."""
    page = client.get("/login")
    if page.status_code == 302:
        page = client.get("/")
    return csrf_token(page.get_data(as_text=True))


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD,
            url: str = "/login") -> TestResponse:
    return client.post(url, data={"username": username, "password": password,
                                  "csrf_token": token_of(client)})


def signed_in(client: FlaskClient) -> bool:
    with client.session_transaction() as session:
        has_user = "_user_id" in session
    return has_user and client.get("/").status_code == 200


def user(username: str) -> StaffUser:
    db.session.expire_all()
    found = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    assert found is not None
    return found


def html_lang(response: TestResponse) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert match, "no <html lang>"
    return match.group(1)


# --- signing in and out ---------------------------------------------------------------

def test_sign_in_opens_the_home_page(client: FlaskClient,
                                     create_user: Callable[..., StaffUser]) -> None:
    create_user(StaffRole.AUDITOR, "wang")
    response = sign_in(client, "wang")
    assert redirect_target(response) == ("/", {})
    home = client.get("/")
    assert home.status_code == 200
    assert "auditor person" in home.get_data(as_text=True)


def test_wrong_password_and_unknown_user_get_the_same_answer(
        client: FlaskClient, create_user: Callable[..., StaffUser]) -> None:
    create_user(StaffRole.ANALYST, "li")
    wrong_password = sign_in(client, "li", "not the password")
    unknown_user = sign_in(client, "nobody", PASSWORD)
    assert wrong_password.status_code == unknown_user.status_code == 200
    messages = alerts(wrong_password.get_data(as_text=True))
    assert messages == alerts(unknown_user.get_data(as_text=True))
    assert len(messages) == 1 and WRONG in messages[0]
    assert not signed_in(client)


def test_deactivated_account_cannot_sign_in(client: FlaskClient,
                                            create_user: Callable[..., StaffUser]) -> None:
    create_user(StaffRole.ANALYST, "left", active=False)
    response = sign_in(client, "left")
    assert response.status_code == 200
    assert any(WRONG in message for message in alerts(response.get_data(as_text=True)))
    assert not signed_in(client)


def test_deactivated_account_is_signed_out_at_its_next_request(
        client_as: Callable[[StaffRole], FlaskClient]) -> None:
    client = client_as(StaffRole.ANALYST)
    assert client.get("/rules/").status_code == 200
    user("analyst0").active = False
    db.session.commit()
    assert sent_to_sign_in(client.get("/rules/"))
    assert sent_to_sign_in(client.get("/"))


def test_sign_out_is_a_post_with_a_csrf_token(
        client_as: Callable[[StaffRole], FlaskClient]) -> None:
    client = client_as(StaffRole.VIEWER)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert signed_in(client)
    response = client.post("/logout", data={"csrf_token": token_of(client)})
    assert redirect_target(response) == ("/login", {})
    assert not signed_in(client)
    assert sent_to_sign_in(client.get("/"))


@pytest.mark.parametrize("url", [
    "/login", "/logout", "/language/en", "/rules/service_tier", "/rules/service_tier/tests",
    "/rules/service_tier/discard", "/rules/service_tier/publish",
    "/rules/service_tier/preview", "/rules/service_tier/rollback/1", "/rules/import",
])
def test_every_form_needs_a_csrf_token(app: Flask,
                                       client_as: Callable[[StaffRole], FlaskClient],
                                       url: str) -> None:
    assert app.test_cli_runner().invoke(args=["rules", "publish"]).exit_code == 0
    client = client_as(StaffRole.ADMIN)
    fields = {"revision": "0", "comment": "why", "username": "admin0", "password": PASSWORD}
    assert client.post(url, data=fields).status_code == 400
    assert client.post(url, data={**fields, "csrf_token": "forged"}).status_code == 400
    assert signed_in(client)


# --- where sign-in leads ----------------------------------------------------------------

#: Places outside the site, as a ``next`` parameter; browsers drop tabs and line breaks
#: from a URL, so "/<tab>/evil.example" is "//evil.example" to them.
ELSEWHERE = ["https://evil.example/", "//evil.example/", "/\\evil.example/",
             "https:/evil.example", "javascript:alert(1)", "/\t/evil.example",
             "/\n/evil.example", "/\r\n/evil.example"]


@pytest.mark.parametrize("target", ELSEWHERE)
def test_sign_in_never_redirects_to_another_site(
        client: FlaskClient, create_user: Callable[..., StaffUser], target: str) -> None:
    create_user(StaffRole.VIEWER, "zhao")
    response = sign_in(client, "zhao", url="/login?" + urlencode({"next": target}))
    assert redirect_target(response) == ("/", {})


def test_sign_in_returns_to_the_page_asked_for(client: FlaskClient,
                                               create_user: Callable[..., StaffUser]) -> None:
    create_user(StaffRole.VIEWER, "zhao")
    asked = client.get("/rules/")
    assert sent_to_sign_in(asked)
    response = sign_in(client, "zhao", url=asked.headers["Location"])
    assert redirect_target(response) == ("/rules/", {})


@pytest.mark.parametrize("target", ELSEWHERE)
def test_language_switch_never_redirects_to_another_site(client: FlaskClient,
                                                         target: str) -> None:
    response = client.post("/language/en", data={"csrf_token": token_of(client),
                                                 "next": target})
    assert redirect_target(response) == ("/", {})


# --- headers and cookies ----------------------------------------------------------------

@pytest.mark.parametrize("url", ["/login", "/no-such-page"])
def test_security_headers(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    policy = response.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


def test_pages_have_no_inline_script(client_as: Callable[[StaffRole], FlaskClient]) -> None:
    client = client_as(StaffRole.ADMIN)
    for url in ("/", "/rules/", "/rules/import"):
        html = client.get(url).get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (url, tag)


def test_session_cookie_is_http_only_and_same_site(
        app: Flask, create_user: Callable[..., StaffUser]) -> None:
    create_user(StaffRole.VIEWER, "zhao")
    client = app.test_client()
    cookies = client.get("/login").headers.getlist("Set-Cookie")
    cookies += sign_in(client, "zhao").headers.getlist("Set-Cookie")
    sessions = [cookie for cookie in cookies if cookie.startswith("session=")]
    assert sessions
    for cookie in sessions:
        attributes = {part.strip().lower() for part in cookie.split(";")}
        assert "httponly" in attributes and "samesite=lax" in attributes, cookie


# --- rate limit -------------------------------------------------------------------------

def test_sign_in_attempts_are_rate_limited(app: Flask, client: FlaskClient,
                                           create_user: Callable[..., StaffUser]) -> None:
    create_user(StaffRole.VIEWER, "zhao")
    saved = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    limiter.reset()
    try:
        for _ in range(3):
            assert sign_in(client, "zhao", "guess").status_code == 200
        blocked = sign_in(client, "zhao")
        assert blocked.status_code == 429
        assert "wait" in blocked.get_data(as_text=True).lower()
        assert not signed_in(client)
    finally:
        app.config["LOGIN_RATE_LIMIT"] = saved
        limiter.reset()


# --- language ---------------------------------------------------------------------------

def test_language_switch_for_a_visitor(client: FlaskClient) -> None:
    assert html_lang(client.get("/login")) == "en"
    assert choose_language(client, "zh").status_code == 302
    assert html_lang(client.get("/login")) == "zh-CN"
    choose_language(client, "en")
    assert html_lang(client.get("/login")) == "en"


def test_language_is_kept_on_the_account(app: Flask,
                                         client_as: Callable[[StaffRole], FlaskClient]) -> None:
    client = client_as(StaffRole.VIEWER)
    assert html_lang(client.get("/")) == "en"
    choose_language(client, "zh")
    assert html_lang(client.get("/")) == "zh-CN"
    assert user("viewer0").locale == "zh"
    elsewhere = app.test_client()
    login(elsewhere, "viewer0")
    assert html_lang(elsewhere.get("/")) == "zh-CN"


def test_unknown_language_is_ignored(client_as: Callable[[StaffRole], FlaskClient]) -> None:
    client = client_as(StaffRole.VIEWER)
    response = choose_language(client, "fr")
    assert redirect_target(response) == ("/", {})
    assert html_lang(client.get("/")) == "en"
    assert user("viewer0").locale == "en"
    with client.session_transaction() as session:
        assert session.get("locale") in (None, "en")


# --- hostile input ----------------------------------------------------------------------

def test_oversized_username_is_a_form_error(client: FlaskClient,
                                           create_user: Callable[..., StaffUser]) -> None:
    create_user(StaffRole.VIEWER, "zhao")
    response = sign_in(client, "z" * 10_000, "whatever")
    assert response.status_code in (200, 400)
    html = response.get_data(as_text=True)
    assert alerts(html) or "invalid-feedback" in html, "the page says nothing is wrong"
    assert not signed_in(client)
