"""Fixtures: every database test runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from ``TEST_DATABASE_URL`` (``scripts/with-postgres.sh`` starts a
throwaway server and sets it). Each pytest-xdist worker gets databases of its own.
"""

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from webapp import create_app
from webapp.database import db

BACKENDS = ("sqlite", "postgresql")
_counter = itertools.count()


def _postgres_admin_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CUSTCLASS_REQUIRE_POSTGRES"):
            pytest.fail("TEST_DATABASE_URL is not set but PostgreSQL tests are required")
        pytest.skip("PostgreSQL not available (run through scripts/test.sh)")
    return url


def new_database(backend: str, tmp_dir: Path) -> Iterator[str]:
    """Create an empty database; yield its URL; drop it afterwards."""
    name = f"custclass_{os.environ.get('PYTEST_XDIST_WORKER', 'gw')}_{next(_counter)}"
    if backend == "sqlite":
        yield f"sqlite:///{tmp_dir / (name + '.db')}"
        return
    admin_url = _postgres_admin_url()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_app(database_url: str, instance: Path) -> Flask:
    return create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        # Tests sign in many times from one address; the limit has a test of its own.
        "LOGIN_RATE_LIMIT": "10000 per minute",
    }, instance_path=str(instance))


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from new_database(backend, tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The application on a database migrated to the latest revision."""
    application = make_app(database_url, tmp_path_factory.mktemp("instance"))
    with application.app_context():
        flask_migrate.upgrade()
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def engine(app: Flask) -> Iterator[Engine]:
    """The app's engine; every table is emptied after the test (the append-only
    adjustment log too: its triggers are set aside meanwhile)."""
    yield db.engine
    db.session.remove()
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            conn.execute(text("SET session_replication_role = replica"))
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            conn.execute(text("SET session_replication_role = DEFAULT"))
        else:
            triggers = conn.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
            for name, _sql in triggers:
                conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
            # org_unit and billing_area refer to each other: no delete order satisfies both.
            conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
            for table in tables:
                conn.execute(table.delete())
            for _name, sql in triggers:
                conn.exec_driver_sql(sql)
            conn.commit()
            conn.exec_driver_sql("PRAGMA foreign_keys = ON")
        conn.commit()
