"""Configuration: defaults, overridden by environment variables, validated at start."""

import os
import secrets
from pathlib import Path
from typing import Any

#: Languages of the UI: Simplified Chinese (the operator's staff) and English.
LOCALES = ("zh", "en")


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
        "SECRET_KEY": env.get("SECRET_KEY"),
        "IMPORT_CHUNK_ROWS": int(env.get("CUSTCLASS_IMPORT_CHUNK_ROWS", "5000")),
        # Manual moves and pins are allowed from this day of a month to that day of the
        # next (inclusive), in the operator's time zone.
        "ADJUSTMENT_WINDOW": env.get("CUSTCLASS_ADJUSTMENT_WINDOW", "9-3"),
        "TIMEZONE": env.get("CUSTCLASS_TIMEZONE", "Asia/Shanghai"),
        # Worker processes of a classification run of several chunks (0: in process).
        "RUN_PROCESSES": int(_number(env, "CUSTCLASS_RUN_PROCESSES", os.cpu_count() or 1,
                                     allow_zero=True)),
        # custclass scheduler: the changed-records job's interval, the daily run's time
        # (HH:MM, operator's time zone), the published-versions job's interval.
        "SCHEDULER_CHANGED_MINUTES": _number(env, "CUSTCLASS_SCHEDULER_CHANGED_MINUTES", 5),
        "SCHEDULER_DAILY_AT": env.get("CUSTCLASS_SCHEDULER_DAILY_AT", "02:00"),
        "SCHEDULER_PUBLISHED_SECONDS": _number(env, "CUSTCLASS_SCHEDULER_PUBLISHED_SECONDS",
                                               60),
        # ... and the interval of the job that refreshes the reports' summaries.
        "SCHEDULER_REPORTS_MINUTES": _number(env, "CUSTCLASS_SCHEDULER_REPORTS_MINUTES", 15),
        # Web UI: language for people not signed in, cookies only over HTTPS (on by default
        # in production), HTTPS redirects, and the sign-in rate limit per client address.
        "BABEL_DEFAULT_LOCALE": env.get("CUSTCLASS_DEFAULT_LOCALE", "zh"),
        "SESSION_COOKIE_SECURE": _flag(env, "CUSTCLASS_SECURE_COOKIES", production),
        "FORCE_HTTPS": _flag(env, "CUSTCLASS_FORCE_HTTPS", False),
        "LOGIN_RATE_LIMIT": env.get("CUSTCLASS_LOGIN_RATE_LIMIT", "10 per minute"),
        "RATELIMIT_STORAGE_URI": env.get("CUSTCLASS_RATELIMIT_STORAGE_URI", "memory://"),
    }
    config.update(overrides or {})
    config["SQLALCHEMY_DATABASE_URI"] = _with_driver(config["SQLALCHEMY_DATABASE_URI"])
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS",
                      engine_options(config["SQLALCHEMY_DATABASE_URI"]))
    _validate(config, production, instance_path)
    return config


def _number(env: Any, name: str, default: float, *, allow_zero: bool = False) -> float:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not (value >= 0 if allow_zero else value > 0) or value > 1_000_000:
        raise ConfigError(f"{name} must be a positive number, got {raw!r}")
    return value


def _flag(env: Any, name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    if raw.lower() not in {"0", "1", "true", "false", "yes", "no"}:
        raise ConfigError(f"{name} must be true or false, got {raw!r}")
    return raw.lower() in {"1", "true", "yes"}


def daily_time(text: str) -> tuple[int, int]:
    """``HH:MM`` as (hour, minute); ConfigError if it is not a time of day."""
    hour, _, minute = text.partition(":")
    if not (hour.isdigit() and minute.isdigit() and len(minute) == 2
            and int(hour) < 24 and int(minute) < 60):
        raise ConfigError(f"CUSTCLASS_SCHEDULER_DAILY_AT must be a time like 02:00, got "
                          f"{text!r}")
    return int(hour), int(minute)


def engine_options(uri: str) -> dict[str, Any]:
    """Engine settings for ``uri``. On PostgreSQL, executemany UPDATEs and DELETEs go in
    pages (psycopg2's ``execute_batch``) instead of one round trip per row: a run's
    updates took a quarter of its time without it."""
    options: dict[str, Any] = {"pool_pre_ping": True}
    if uri.startswith("postgresql"):
        options["executemany_mode"] = "values_plus_batch"
    return options


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
    daily_time(config["SCHEDULER_DAILY_AT"])
    if config["BABEL_DEFAULT_LOCALE"] not in LOCALES:
        raise ConfigError(f"CUSTCLASS_DEFAULT_LOCALE must be one of {', '.join(LOCALES)}, got "
                          f"{config['BABEL_DEFAULT_LOCALE']!r}")
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
