"""The re-evaluation queue: subscribers and customers whose rule-visible facts changed.

A queued subscriber stands for its customer too (the scheduler evaluates both), so a
customer is queued on its own only for customer-level facts (key-account list, VIP card)
or when it loses a line.

Imports add rows; the scheduler's incremental run reads them (its cost follows the number
of changes, not the population) and deletes those it evaluated. A narrow table of its own
is far cheaper to write than a timestamp on the wide, heavily indexed subscriber rows.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    Integer,
    Select,
    String,
    and_,
    delete,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.database import db, upsert
from webapp.models.subscribers import Subscriber


class PendingChange(db.Model):
    """One subject waiting for re-evaluation since ``changed_at`` (its latest change)."""

    __tablename__ = "pending_change"

    #: ``subscriber`` or ``customer``.
    subject: Mapped[str] = mapped_column(String(16), primary_key=True)
    #: Id of the subscriber or customer. No foreign key: the queue is transient, and a
    #: key check per queued row would cost as much as the queueing itself.
    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def mark_changed(conn: Connection, subject: str, ids: Select[Any], now: datetime, *,
                 distinct: bool = True) -> None:
    """Queue the ``subject`` rows whose ids ``ids`` selects, as changed at ``now``.

    Pass ``distinct=False`` when ``ids`` cannot repeat an id (it saves a sort).
    """
    table = PendingChange.__table__
    # One upsert may not touch a row twice, hence DISTINCT. "WHERE" keeps SQLite from
    # reading ON CONFLICT as the ON of a join.
    rows = ids.where(true()).add_columns(literal(subject), literal(now, DateTime(timezone=True)))
    if distinct:
        rows = rows.distinct()
    statement = upsert(conn, table).from_select(["subject_id", "subject", "changed_at"], rows)
    conn.execute(statement.on_conflict_do_update(
        index_elements=["subject", "subject_id"],
        set_={"changed_at": statement.excluded.changed_at},
    ))


def take_off(conn: Connection, customers: Any, snapshot: datetime) -> None:
    """Remove from the queue, up to ``snapshot``, the customers ``customers`` selects
    (a condition on a customer-id column, e.g. ``CustomerChunk.where``) and their lines."""
    table = PendingChange.__table__
    lines = select(Subscriber.id).where(customers(Subscriber.customer_id))
    conn.execute(delete(table).where(
        table.c.changed_at <= snapshot,
        or_(and_(table.c.subject == "customer", customers(table.c.subject_id)),
            and_(table.c.subject == "subscriber", table.c.subject_id.in_(lines)))))
