"""Configuration: defaults, overridden by environment variables, validated at start."""

import os
import secrets
from pathlib import Path
from typing import Any


class ConfigError(RuntimeError):
    """The configuration is unusable; the message says which setting and why."""


def load_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the app configuration from defaults, the environment and ``overrides``.

    With no ``DATABASE_URL`` the product runs on SQLite in the instance folder.
    Production (``CUSTCLASS_ENV=production``) refuses to start without a real secret key
    or on the embedded SQLite default.
    """
    env = os.environ
    production = env.get("CUSTCLASS_ENV", "development") == "production"
    config: dict[str, Any] = {
        "CUSTCLASS_ENV": "production" if production else "development",
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL")
        or f"sqlite:///{Path(instance_path) / 'custclass.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SECRET_KEY": env.get("SECRET_KEY"),
        "IMPORT_CHUNK_ROWS": int(env.get("CUSTCLASS_IMPORT_CHUNK_ROWS", "5000")),
        # Manual moves and pins are allowed from this day of a month to that day of the
        # next (inclusive), in the operator's time zone.
        "ADJUSTMENT_WINDOW": env.get("CUSTCLASS_ADJUSTMENT_WINDOW", "9-3"),
        "TIMEZONE": env.get("CUSTCLASS_TIMEZONE", "Asia/Shanghai"),
    }
    config.update(overrides or {})
    config["SQLALCHEMY_DATABASE_URI"] = _with_driver(config["SQLALCHEMY_DATABASE_URI"])
    _validate(config, production, instance_path)
    return config


def _with_driver(uri: str) -> str:
    """Name the psycopg2 driver: SQLAlchemy 2.1 would pick psycopg 3 for ``postgresql://``."""
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg2://" + uri.removeprefix(prefix)
    return uri


def _validate(config: dict[str, Any], production: bool, instance_path: str) -> None:
    uri: str = config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith(("sqlite:", "postgresql+psycopg2:")):
        raise ConfigError(
            f"DATABASE_URL {uri.split(':', 1)[0]!r} is not supported: "
            "use postgresql://user:password@host/dbname or leave it unset for SQLite"
        )
    if config["IMPORT_CHUNK_ROWS"] < 1:
        raise ConfigError("CUSTCLASS_IMPORT_CHUNK_ROWS must be a positive number of rows")
    if production:
        if not config["SECRET_KEY"] or len(config["SECRET_KEY"]) < 32:
            raise ConfigError("production needs SECRET_KEY set to at least 32 random characters")
        if uri.startswith("sqlite:"):
            raise ConfigError("production needs DATABASE_URL pointing at PostgreSQL")
    elif not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _development_secret(Path(instance_path))


def _development_secret(instance: Path) -> str:
    """A per-installation random key, kept in the instance folder across restarts."""
    key_file = instance / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key
