"""A short description of what is in the database, printed after the demo import."""

from collections.abc import Iterator

from sqlalchemy import Connection, func, select

from webapp.models import (
    BillingArea,
    Customer,
    JunctionBox,
    NumberSegment,
    OrgUnit,
    Subscriber,
    SubscriberMonth,
)


def describe(conn: Connection) -> Iterator[str]:
    """Lines of text: counts of the reference data and of the population."""

    def count(model: type, *where: object) -> int:
        return conn.scalar(select(func.count()).select_from(model).where(*where)) or 0

    communities = count(OrgUnit, OrgUnit.kind == "community")
    unassigned = count(OrgUnit, OrgUnit.unassigned_billing_area_id.is_not(None))
    yield (f"org units {count(OrgUnit):,} (communities {communities:,}"
           f", of which unassigned {unassigned:,})"
           f" · billing areas {count(BillingArea):,} · junction boxes {count(JunctionBox):,}"
           f" · number segments {count(NumberSegment):,}")
    yield (f"customers {count(Customer):,} · key accounts "
           f"{count(Customer, Customer.key_account_code.is_not(None)):,} · with a VIP card "
           f"{count(Customer, Customer.vip_card != 'none'):,}")
    statuses = conn.execute(
        select(Subscriber.status, func.count()).group_by(Subscriber.status).order_by(
            func.count().desc())
    ).all()
    yield f"subscribers {count(Subscriber):,}: " + ", ".join(
        f"{status} {number:,}" for status, number in statuses
    )
    yield (f"  in arrears {count(Subscriber, Subscriber.arrears_cents > 0):,}"
           f" · prepaid {count(Subscriber, Subscriber.prepaid.is_(True)):,}"
           f" · without junction box {count(Subscriber, Subscriber.junction_box_code.is_(None)):,}")
    first, last, rows = conn.execute(
        select(func.min(SubscriberMonth.month), func.max(SubscriberMonth.month), func.count())
    ).one()
    if rows:
        yield f"revenue history {rows:,} subscriber-months, {first:%Y-%m} to {last:%Y-%m}"
