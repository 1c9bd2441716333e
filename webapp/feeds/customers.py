"""Customers from subscriber lines: flow 1 of the spec (contract number → customer)."""


from sqlalchemy import (
    DateTime,
    exists,
    func,
    insert,
    literal,
    select,
)

from webapp.feeds.spec import MergeContext
from webapp.models import (
    Customer,
    Subscriber,
)
from webapp.models.changes import mark_changed


def attach_customers(ctx: MergeContext) -> None:
    """Flow 1: a known contract number joins its customer, an unknown one creates one.

    A customer losing a line is queued for re-evaluation; one gaining a line is covered by
    that line, which the merge queues as new or changed.
    """
    conn, stage, now = ctx.conn, ctx.staging.table, ctx.now
    customer, subscriber = Customer.__table__, Subscriber.__table__
    leaving = select(subscriber.c.customer_id).join(
        stage, stage.c.service_number == subscriber.c.service_number
    ).where(subscriber.c.contract_number != stage.c.contract_number)
    mark_changed(conn, "customer", leaving, now)
    new_customers = (
        select(literal("C") + stage.c.contract_number, stage.c.contract_number,
               func.min(stage.c.name), literal(now, DateTime(timezone=True)))
        .where(~exists().where(customer.c.contract_number == stage.c.contract_number))
        .group_by(stage.c.contract_number)
        .order_by(stage.c.contract_number)
    )
    created = conn.execute(
        insert(customer).from_select(["code", "contract_number", "name", "created_at"],
                                     new_customers)
    ).rowcount
    if created:
        ctx.notes.append(f"new customers: {created:,}")
