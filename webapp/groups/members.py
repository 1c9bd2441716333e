"""A group's members: added and removed by customer code (one, or a list read from an
uploaded file), and listed with their current classification.

All or none: every line whose code is unknown or outside the person's org scope (or, to
remove, not in the group) is reported with its number, and then nothing changes. The
customers whose membership changes are queued for the next run, since ``in_group`` and
``group_type`` are facts of theirs.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection, case, delete, func, select

from engine.domain import ClassifiedAttribute
from webapp.audit.admin_changes import record
from webapp.database import upsert
from webapp.groups.access import GroupAccess
from webapp.groups.store import MEMBER, SUBJECT, get_group
from webapp.models import Customer, CustomerDecision, customer_group_member
from webapp.models.changes import mark_changed

#: Codes looked up per query (keeps IN lists well under SQLite's parameter limit).
PART = 1000
#: Codes written into one admin-log row; the count is always complete.
LOGGED_CODES = 100
PAGE = 100
#: The classification a group's page shows, in its column order.
ATTRIBUTES = (ClassifiedAttribute.STATISTICAL_ATTRIBUTE, ClassifiedAttribute.MARKETING_ATTRIBUTE,
              ClassifiedAttribute.SERVICE_TIER, ClassifiedAttribute.LIFECYCLE_STAGE)


@dataclass
class MemberReport:
    #: (line, why) of every line that cannot be used; when any, nothing changed.
    problems: list[tuple[int, Any]] = field(default_factory=list)
    #: Customers added or removed.
    changed: int = 0
    #: Lines naming a customer already (when adding) in the group.
    unchanged: int = 0


@dataclass(frozen=True)
class MemberRow:
    id: int
    code: str
    name: str
    statistical_attribute: str | None
    marketing_attribute: str | None
    service_tier: str | None
    lifecycle_stage: str | None


def _parts(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), PART):
        yield items[start:start + PART]


def _resolve(conn: Connection, access: GroupAccess, group_id: int,
             codes: Sequence[tuple[int, str]]) -> dict[str, tuple[int, bool, bool]]:
    """Code → (customer id, in the person's scope, already a member), known codes only."""
    found: dict[str, tuple[int, bool, bool]] = {}
    member = (select(MEMBER.customer_id).where(MEMBER.group_id == group_id,
                                               MEMBER.customer_id == Customer.id)
              .exists())
    for part in _parts([code for _line, code in codes]):
        for row in conn.execute(select(Customer.code, Customer.id,
                                       access.scope.customers().label("in_scope"),
                                       member.label("member"))
                                .where(Customer.code.in_(part))):
            found[row.code] = (row.id, bool(row.in_scope), bool(row.member))
    return found


def _queue(conn: Connection, ids: list[int], now: datetime) -> None:
    for part in _parts(ids):
        mark_changed(conn, "customer", select(Customer.id).where(Customer.id.in_(part)), now,
                     distinct=False)


def _log(conn: Connection, access: GroupAccess, group_id: int, action: str,
         codes: list[str], now: datetime) -> None:
    record(conn, staff_id=access.staff_id, subject=SUBJECT, key=str(group_id),
           action=action, now=now,
           new={"count": len(codes), "codes": codes[:LOGGED_CODES],
                "codes_cut": len(codes) > LOGGED_CODES})


def _checked(conn: Connection, access: GroupAccess, group_id: int,
             codes: Sequence[tuple[int, str]], *, adding: bool
             ) -> tuple[MemberReport, list[tuple[str, int]]]:
    """The report of the lines that cannot be used (and, when adding, of those already
    in the group) and the (code, customer id) to add or remove."""
    get_group(conn, access, group_id)
    found = _resolve(conn, access, group_id, codes)
    report, chosen = MemberReport(), []
    for line, code in codes:
        known = found.get(code)
        if known is None:
            report.problems.append((line, _l("no customer %(code)s", code=code)))
        elif not known[1]:
            report.problems.append((line, _l("customer %(code)s is outside your org scope",
                                             code=code)))
        elif known[2] and adding:
            report.unchanged += 1
        elif not known[2] and not adding:
            report.problems.append((line, _l("customer %(code)s is not in the group",
                                             code=code)))
        else:
            chosen.append((code, known[0]))
    return report, chosen


def _insert(conn: Connection, group_id: int, customers: list[int]) -> set[int]:
    """Put ``customers`` in the group; those it added. Someone may have added some since
    they were checked (their transaction committed before this one's insert): those
    stay as they are instead of failing on the key."""
    added: set[int] = set()
    for part in _parts(customers):
        added.update(conn.scalars(
            upsert(conn, customer_group_member)
            .values([{"group_id": group_id, "customer_id": customer} for customer in part])
            .on_conflict_do_nothing().returning(MEMBER.customer_id)))
    return added


def add_members(conn: Connection, access: GroupAccess, group_id: int,
                codes: Sequence[tuple[int, str]], now: datetime) -> MemberReport:
    """Add the customers of ``codes`` ((line, code)) to the group."""
    report, chosen = _checked(conn, access, group_id, codes, adding=True)
    if report.problems or not chosen:
        return report
    added = _insert(conn, group_id, [customer for _code, customer in chosen])
    new = [(code, customer) for code, customer in chosen if customer in added]
    report.unchanged += len(chosen) - len(new)
    if not new:
        return report
    _queue(conn, [customer for _code, customer in new], now)
    _log(conn, access, group_id, "members_added", [code for code, _id in new], now)
    report.changed = len(new)
    return report


def remove_members(conn: Connection, access: GroupAccess, group_id: int,
                   codes: Sequence[tuple[int, str]], now: datetime) -> MemberReport:
    """Take the customers of ``codes`` ((line, code)) out of the group."""
    report, gone = _checked(conn, access, group_id, codes, adding=False)
    if report.problems:
        return report
    for part in _parts(gone):
        conn.execute(delete(customer_group_member).where(
            MEMBER.group_id == group_id,
            MEMBER.customer_id.in_([customer for _code, customer in part])))
    _queue(conn, [customer for _code, customer in gone], now)
    _log(conn, access, group_id, "members_removed", [code for code, _id in gone], now)
    report.changed = len(gone)
    return report


def _members_query(access: GroupAccess, group_id: int) -> Any:
    decision = CustomerDecision
    values = [func.max(case((decision.attribute == attribute, decision.value)))
              .label(attribute.value) for attribute in ATTRIBUTES]
    return (select(Customer.id, Customer.code, Customer.name, *values)
            .join(customer_group_member, MEMBER.customer_id == Customer.id)
            .outerjoin(decision, (decision.customer_id == Customer.id)
                       & decision.attribute.in_(ATTRIBUTES))
            .where(MEMBER.group_id == group_id, access.scope.customers())
            .group_by(Customer.id, Customer.code, Customer.name)
            .order_by(Customer.code))


def member_rows(conn: Connection, access: GroupAccess, group_id: int, *,
                after: str | None = None, size: int = PAGE
                ) -> tuple[list[MemberRow], str | None]:
    """A page of the members the person may see, by customer code, with their current
    classification; and the key of the next page (None: the last)."""
    query = _members_query(access, group_id).limit(size + 1)
    if after is not None:
        query = query.where(Customer.code > after)
    rows = [MemberRow(*row) for row in conn.execute(query)]
    return rows[:size], rows[size - 1].code if len(rows) > size else None


def every_member(conn: Connection, access: GroupAccess, group_id: int
                 ) -> Iterator[MemberRow]:
    """Every member the person may see, streamed (for an export)."""
    for row in conn.execute(_members_query(access, group_id)
                            .execution_options(yield_per=PART)):
        yield MemberRow(*row)


def hidden_members(conn: Connection, access: GroupAccess, group_id: int) -> int:
    """Members outside the person's org scope (not shown to them)."""
    if access.scope.whole_province:
        return 0
    return conn.scalar(select(func.count()).select_from(customer_group_member)
                       .join(Customer, Customer.id == MEMBER.customer_id)
                       .where(MEMBER.group_id == group_id, ~access.scope.customers())) or 0
