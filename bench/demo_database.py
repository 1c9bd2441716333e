"""What the benchmarks share: the cached demo feed files and fresh, migrated databases."""

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
CUSTCLASS = str(Path(sys.executable).with_name("custclass"))
#: The day the cached demo files describe.
AS_OF = date(2026, 11, 23)


def generate(subscribers: int, as_of: date = AS_OF) -> Path:
    """The demo feed files, generated once into ``bench/.data`` (in a separate process,
    so the caller's memory stays clean)."""
    suffix = "" if as_of == AS_OF else f"-{as_of:%Y%m%d}"
    out = ROOT / "bench" / ".data" / f"demo-{subscribers}{suffix}"
    complete = out / ".complete"
    if not complete.exists():
        print(f"generating {subscribers:,} subscribers into {out} ...", flush=True)
        subprocess.run([CUSTCLASS, "demo-data", "-n", str(subscribers), "--out", str(out),
                        "--as-of", as_of.isoformat()], check=True, stdout=subprocess.DEVNULL)
        complete.touch()
    return out


def fresh_postgres_database(admin_url: str, name: str) -> str:
    """Drop and create database ``name`` on ``admin_url``'s server; its migrated URL."""
    return migrated(recreate_database(admin_url, name))


def recreate_database(admin_url: str, name: str, template: str | None = None) -> str:
    """Drop database ``name`` and create it (a copy of ``template`` when given); its URL."""
    copy = f' TEMPLATE "{template}"' if template else ""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def rename_database(admin_url: str, name: str, new_name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" RENAME TO "{new_name}"'))
    admin.dispose()


def migrated(url: str) -> str:
    """``url`` after ``custclass db upgrade``."""
    subprocess.run([CUSTCLASS, "db", "upgrade"], env={**os.environ, "DATABASE_URL": url},
                   check=True, capture_output=True)
    return url


def database_exists(admin_url: str, name: str) -> bool:
    engine = create_engine(admin_url)
    with engine.connect() as conn:
        found = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                            {"name": name})
    engine.dispose()
    return found is not None


def migration_head() -> str:
    """The newest migration's revision: what a kept database's schema is of."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(ROOT / "migrations")).get_current_head() or "base"
