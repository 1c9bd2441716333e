"""The incremental runs' work: customers of queued subscribers, queued customers and
customers due by date.

The queue (:class:`~webapp.models.PendingChange`) is read up to a snapshot time taken
when the run starts; each chunk takes its customers off the queue in the transaction that
stores their results (:func:`~webapp.models.changes.take_off`), so a run killed half-way
leaves exactly the unfinished part queued, and a change queued while the run goes on
(later ``changed_at``) stays queued.
"""

from collections.abc import Iterator
from datetime import date, datetime

from sqlalchemy import Connection, and_, select, union

from webapp.classification.facts import CustomerChunk
from webapp.models import Customer, PendingChange, Subscriber


def queued_customers(conn: Connection, snapshot: datetime) -> list[int]:
    """Ids of the customers with something queued at or before ``snapshot``, sorted."""
    queued = PendingChange.changed_at <= snapshot
    lines = select(Subscriber.customer_id).join(
        PendingChange, and_(PendingChange.subject == "subscriber",
                            PendingChange.subject_id == Subscriber.id)).where(queued)
    customers = select(PendingChange.subject_id).where(PendingChange.subject == "customer",
                                                        queued)
    return sorted(conn.scalars(union(lines, customers)))


def due_customers(conn: Connection, as_of: date) -> list[int]:
    """Ids of the customers due for evaluation on or before ``as_of``."""
    return list(conn.scalars(select(Customer.id).where(Customer.due_on <= as_of)))


def chunks(ids: list[int], size: int, queued_until: datetime | None = None
           ) -> Iterator[CustomerChunk]:
    for start in range(0, len(ids), size):
        yield CustomerChunk.of(ids[start:start + size], queued_until)
