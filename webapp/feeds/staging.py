"""Temporary tables an import stages its rows and its errors in.

Validated rows are bulk-loaded (``COPY`` on PostgreSQL, ``executemany`` on SQLite) into a
temporary table; the checks that need the whole file or the database (duplicates,
unknown references) and the merge into the real tables are then set-based SQL.
"""

import csv
from collections.abc import Iterable, Sequence
from io import StringIO
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    insert,
)

from webapp.feeds.fields import FeedField


class Staging:
    """The staged rows (``table``) and row errors (``errors``) of one import."""

    def __init__(self, conn: Connection, feed: str, fields: dict[str, FeedField],
                 key: Sequence[str]) -> None:
        self.conn = conn
        self.columns = list(fields)
        self.postgresql = conn.dialect.name == "postgresql"
        metadata = MetaData()
        name = "stage_" + feed.replace("-", "_")
        options: dict[str, Any] = {"prefixes": ["TEMPORARY"]}
        if self.postgresql:
            options["postgresql_on_commit"] = "DROP"
        self.table = Table(
            name,
            metadata,
            Column("line_no", Integer, primary_key=True),
            *(Column(name, field.sql_type) for name, field in fields.items()),
            **options,
        )
        self.errors = Table(
            f"{name}_errors",
            metadata,
            Column("line_no", Integer, nullable=False, index=True),
            Column("column_name", String(64)),
            Column("message", Text, nullable=False),
            **options,
        )
        self.key = list(key)
        metadata.drop_all(conn, checkfirst=True)
        metadata.create_all(conn)

    def append_rows(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Bulk-load rows given as ``(line_no, *values in field order)``.

        On PostgreSQL the rows go through ``COPY ... (FORMAT csv)``: ``None`` is written as
        an empty unquoted cell, which is NULL (the fields never produce empty strings),
        dates print as ISO dates and booleans as True/False, which PostgreSQL reads.
        """
        if not rows:
            return
        cursor = self.conn.connection.cursor()
        try:
            if self.postgresql:
                buffer = StringIO()
                csv.writer(buffer, lineterminator="\n").writerows(rows)
                buffer.seek(0)
                names = ", ".join(["line_no", *self.columns])
                cursor.copy_expert(
                    f"COPY {self.table.name} ({names}) FROM STDIN WITH (FORMAT csv)", buffer
                )
            else:
                marks = ", ".join("?" * (len(self.columns) + 1))
                cursor.executemany(f"INSERT INTO {self.table.name} VALUES ({marks})", rows)
        finally:
            cursor.close()

    def reject_selected(self, query: Select[Any]) -> None:
        """Record as errors the ``(line_no, column, message)`` rows ``query`` selects."""
        self.conn.execute(
            insert(self.errors).from_select(["line_no", "column_name", "message"], query)
        )

    def append_errors(self, errors: Iterable[tuple[int, str | None, str]]) -> None:
        rows = [{"line_no": line, "column_name": column, "message": message}
                for line, column, message in errors]
        if rows:
            self.conn.execute(insert(self.errors), rows)

    def finish_loading(self) -> None:
        """Index the key and give the planner statistics (temp tables get no autovacuum)."""
        Index(f"ix_{self.table.name}_key", *(self.table.c[name] for name in self.key)).create(
            self.conn
        )
        if self.postgresql:
            self.conn.exec_driver_sql(f"ANALYZE {self.table.name}")
