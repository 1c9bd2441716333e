"""Fixtures of the API tests: tokens for staff accounts, and requests that send them."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from tests.web.conftest import client_as, create_user  # noqa: F401 - fixtures here too
from tests.web.helpers import isolated_requests
from webapp.api import tokens
from webapp.database import db
from webapp.models import StaffUser


@pytest.fixture(autouse=True)
def _isolated_requests(app: Flask) -> Iterator[None]:
    yield from isolated_requests(app)


def token_for(username: str) -> str:
    """The secret of a new live token acting as the account ``username`` (committed)."""
    owner = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    assert owner is not None, username
    issued = tokens.issue(db.session, owner, f"test token of {username}", datetime.now(UTC))
    db.session.commit()
    return issued.secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
