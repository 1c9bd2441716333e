"""The application's PostgreSQL role: everything it needs, the adjustment log append-only.

The triggers refuse UPDATE and DELETE on the log for everyone, but the owner of the
table (or a superuser) can disable them. The application should therefore connect as a
role that does not own the schema, granted here: reads and writes everywhere except the
log, where it may only read and append.
"""

from sqlalchemy import Connection

from webapp.models import AdjustmentLogEntry


class RoleError(ValueError):
    pass


def grant_application_role(conn: Connection, role: str) -> None:
    """Grant ``role`` (an existing PostgreSQL role) the application's privileges."""
    if conn.dialect.name != "postgresql":
        raise RoleError("database roles exist only on PostgreSQL")
    quote = conn.dialect.identifier_preparer.quote
    exists = conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    if exists.first() is None:
        raise RoleError(f"no PostgreSQL role named {role!r} (CREATE ROLE it first)")
    name, log = quote(role), quote(AdjustmentLogEntry.__tablename__)
    for statement in (
        f"GRANT USAGE ON SCHEMA public TO {name}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {log} FROM {name}",
    ):
        conn.exec_driver_sql(statement)
