"""Feeds that carry the whole list (current debtors, key accounts): absent rows reset."""

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    exists,
    select,
    update,
)

from webapp.feeds.spec import Hook, MergeContext
from webapp.models.changes import mark_changed


def reset_absent(subject: str, table: Table, key: str, listed: ColumnElement[bool],
                 reset: dict[str, Any], noun: str) -> Hook:
    """A merge step for a feed that is the whole list (debtors, key accounts).

    Rows of ``table`` that are ``listed`` but absent from the file get the ``reset``
    values and are queued as changed. If any row of the file was rejected, nothing is
    reset: an absent row might be one of the rejected ones.
    """

    def reset_rows_absent_from_file(ctx: MergeContext) -> None:
        if ctx.had_rejects:
            ctx.notes.append(f"rows were rejected, so {noun} absent from the file were NOT "
                             "reset; fix the file and import it again")
            return
        stage = ctx.staging.table
        absent = and_(listed, ~exists().where(stage.c[key] == table.c[key]))
        mark_changed(ctx.conn, subject, select(table.c.id).where(absent), ctx.now)
        count = ctx.conn.execute(update(table).where(absent).values(reset)).rowcount
        if count:
            ctx.notes.append(f"{noun} absent from the file, reset: {count:,}")

    return reset_rows_absent_from_file
