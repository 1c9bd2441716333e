"""Fixtures of the web UI tests: staff of every role, signed-in test clients."""

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from werkzeug.security import generate_password_hash

from engine.domain import StaffRole
from tests.web.helpers import isolated_requests
from webapp.database import db
from webapp.models import StaffUser

PASSWORD = "correct horse battery"
#: A cheap hash for test accounts (the default scrypt takes ~50 ms per account).
FAST_HASH = "pbkdf2:sha256:1000"


@pytest.fixture(autouse=True)
def _isolated_requests(app: Flask) -> Iterator[None]:
    """Every test client of these tests gives each request an empty ``flask.g``."""
    yield from isolated_requests(app)


@pytest.fixture
def create_user(engine: Engine) -> Callable[..., StaffUser]:
    """``create_user(role, username=..., active=True)``: a staff account, committed."""
    def create(role: StaffRole, username: str | None = None, *, active: bool = True,
               locale: str = "en") -> StaffUser:
        user = StaffUser(username=username or role.value, display_name=f"{role.value} person",
                         role=role, active=active, locale=locale,
                         password_hash=generate_password_hash(PASSWORD, FAST_HASH))
        db.session.add(user)
        db.session.commit()
        return user
    return create


@pytest.fixture
def client_as(app: Flask, create_user: Callable[..., StaffUser]
              ) -> Iterator[Callable[[StaffRole], FlaskClient]]:
    """``client_as(role)``: a test client signed in (through the sign-in form) as a
    fresh account of ``role``."""
    made: list[FlaskClient] = []

    def sign_in(role: StaffRole) -> FlaskClient:
        user = create_user(role, f"{role.value}{len(made)}")
        client = app.test_client()
        login(client, user.username)
        made.append(client)
        return client

    yield sign_in


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> None:
    page = client.get("/login")
    token = csrf_token(page.get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def csrf_token(html: str) -> str:
    marker = 'name="csrf_token" type="hidden" value="'
    start = html.find(marker)
    if start < 0:
        marker = 'name="csrf_token" value="'
        start = html.find(marker)
    assert start >= 0, "no CSRF token on the page"
    start += len(marker)
    return html[start:html.index('"', start)]
