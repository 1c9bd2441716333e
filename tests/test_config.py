"""Configuration is validated at start: production refuses insecure settings."""

from pathlib import Path

import pytest

from webapp import create_app
from webapp.config import ConfigError


def test_embedded_default_is_sqlite_in_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'custclass.db'}"
    assert len(app.config["SECRET_KEY"]) == 64
    assert create_app(instance_path=str(tmp_path)).config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_database_url_switches_to_postgresql(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/custclass")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg2://u:p@db/custclass"


@pytest.mark.parametrize(("env", "message"), [
    ({"DATABASE_URL": "postgresql://db/x"}, "SECRET_KEY"),
    ({"SECRET_KEY": "s" * 40}, "DATABASE_URL pointing at PostgreSQL"),
    ({"SECRET_KEY": "s" * 40, "DATABASE_URL": "mysql://db/x"}, "not supported"),
])
def test_production_refuses_insecure_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    monkeypatch.setenv("CUSTCLASS_ENV", "production")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=message):
        create_app(instance_path=str(tmp_path))
