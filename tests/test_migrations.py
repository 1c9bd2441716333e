"""The Alembic history builds exactly the schema the models describe, on both databases."""

from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from tests.conftest import make_app, new_database
from webapp import MIGRATIONS_DIR
from webapp.database import db


@pytest.fixture
def empty_url(backend: str, tmp_path: Path) -> Iterator[str]:
    yield from new_database(backend, tmp_path)


def _differences() -> list[object]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_matches_models_and_downgrade_removes_everything(
    empty_url: str, tmp_path: Path
) -> None:
    app = make_app(empty_url, tmp_path)
    with app.app_context():
        flask_migrate.upgrade()
        assert _differences() == []
        tables = set(inspect(db.engine).get_table_names())
        assert {table.name for table in db.metadata.sorted_tables} <= tables

        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}

        flask_migrate.upgrade()
        assert _differences() == []
        db.engine.dispose()


def test_history_has_a_single_head() -> None:
    assert len(ScriptDirectory(MIGRATIONS_DIR).get_heads()) == 1
