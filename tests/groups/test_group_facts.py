"""Group membership as facts for rules: ``in_group`` and ``group_type`` computed per
chunk against an independent reading of the membership, and end to end — a published
rule on ``group_type`` reclassifies a customer put in a group of that type, with the rule
and the facts in the adjustment log."""

import copy
from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, text

from engine.domain import ClassifiedAttribute
from tests.web.lists import AS_OF, Province, classified_province
from webapp.classification.facts import CustomerChunk
from webapp.classification.reference import customer_facts, load_reference
from webapp.classification.run import customer_rows
from webapp.clock import now
from webapp.database import db
from webapp.groups import members, store, types
from webapp.groups.access import GroupAccess
from webapp.models import (
    AdjustmentLogEntry,
    Customer,
    CustomerDecision,
    CustomerGroup,
    GroupType,
    RulesetVersion,
    customer_group_member,
)
from webapp.models.changes import PendingChange
from webapp.rulesets.store import latest_published, publish
from webapp.scope import Scope

STATISTICAL = ClassifiedAttribute.STATISTICAL_ATTRIBUTE


@pytest.fixture(scope="module")
def province(app: Flask) -> Iterator[Province]:
    yield from classified_province(app)


@pytest.fixture(autouse=True)
def _no_groups(province: Province) -> Iterator[None]:
    yield
    db.session.rollback()
    for table in (customer_group_member, CustomerGroup.__table__, GroupType.__table__,
                  PendingChange.__table__):
        db.session.execute(delete(table))
    db.session.commit()


ANALYST = GroupAccess(staff_id=None, units=None, scope=Scope(None))  # type: ignore[arg-type]


def _group(name: str, type_code: str, codes: list[str]) -> int:
    conn = db.session.connection()
    type_id = db.session.scalar(select(GroupType.id).where(GroupType.code == type_code))
    if type_id is None:
        type_id = types.add_type(conn, None, type_code, type_code, now())  # type: ignore[arg-type]
    group = store.create_group(conn, ANALYST, name, type_id, None, now())
    report = members.add_members(conn, ANALYST, group, list(enumerate(codes, 1)), now())
    assert not report.problems
    db.session.commit()
    return group


def _codes(count: int, offset: int = 0) -> list[str]:
    return list(db.session.scalars(select(Customer.code).order_by(Customer.id)
                                   .offset(offset).limit(count)))


def test_group_facts_follow_the_membership(province: Province) -> None:
    first, second, third = _codes(5), _codes(5, 3), _codes(2, 20)
    _group("Park", "industrial_park", first)
    _group("Tower", "building", second)  # two customers in both
    _group("Tower 2", "building", third)
    conn = db.session.connection()
    low, high = conn.execute(select(func.min(Customer.id), func.max(Customer.id))).one()
    reference = load_reference(conn, date.fromisoformat(AS_OF), percentiles=False)
    facts = {row.code: customer_facts(row, [], reference)
             for row in customer_rows(conn, CustomerChunk(low, high))}
    # Independently: each customer's type codes, from the tables themselves.
    expected: dict[str, set[str]] = {code: set() for code in facts}
    for code, type_code in conn.execute(text(
            "SELECT c.code, t.code FROM customer_group_member m JOIN customer c ON "
            "c.id = m.customer_id JOIN customer_group g ON g.id = m.group_id "
            "JOIN group_type t ON t.id = g.group_type_id")):
        expected[code].add(type_code)
    assert sum(1 for found in expected.values() if found) == 10
    for code, record in facts.items():
        assert record["in_group"] is bool(expected[code]), code
        assert record["group_type"] == (",".join(sorted(expected[code])) or None), code
    assert facts[first[3]]["group_type"] == "building,industrial_park"


def _stat(code: str) -> tuple[str, str | None, int | None]:
    return tuple(db.session.execute(
        select(CustomerDecision.value, CustomerDecision.rule_id,
               CustomerDecision.ruleset_version)
        .join(Customer, Customer.id == CustomerDecision.customer_id)
        .where(Customer.code == code, CustomerDecision.attribute == STATISTICAL)).one())


def _reclassify(app: Flask, *options: str) -> None:
    result = app.test_cli_runner().invoke(args=["reclassify", *options, "--as-of", AS_OF,
                                                "--processes", "0"])
    assert result.exit_code == 0, result.output


def _full_run_writes_nothing(app: Flask) -> None:
    """The incremental invariant: after the changed runs, a full run changes nothing."""
    log_size = db.session.scalar(select(func.count()).select_from(AdjustmentLogEntry))
    _reclassify(app, "--all")
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AdjustmentLogEntry)) == log_size


def test_a_rule_on_group_type_reclassifies_a_customer_put_in_a_group(
        app: Flask, province: Province) -> None:
    live = next(row for row in latest_published(db.session) if row.name == STATISTICAL.value)
    document = copy.deepcopy(live.definition)
    document["rules"].insert(0, {
        "id": "industrial_park_business", "title": "Customers of an industrial park",
        "when": {"fact": "group_type", "op": "eq", "value": "industrial_park"},
        "then": "business"})
    [(_name, version, new)] = publish(db.session, {"test": document}, now())
    assert new
    db.session.commit()
    _reclassify(app, "--published")
    public = db.session.scalars(
        select(Customer.code).join(CustomerDecision, CustomerDecision.customer_id == Customer.id)
        .where(CustomerDecision.attribute == STATISTICAL, CustomerDecision.value == "public")
        .order_by(Customer.code).limit(2)).all()
    before = {code: _stat(code) for code in public}
    assert all(value == "public" for value, _rule, _version in before.values())
    _group("Hi-tech park", "industrial_park", public[:1])
    _group("Some tower", "building", public[1:])
    queued = set(db.session.scalars(select(PendingChange.subject_id)))
    assert queued == set(db.session.scalars(select(Customer.id)
                                            .where(Customer.code.in_(public))))
    log_start = db.session.scalar(select(func.max(AdjustmentLogEntry.chain_seq)))
    _reclassify(app, "--changed")
    db.session.expire_all()
    assert _stat(public[0]) == ("business", "industrial_park_business", version)
    assert _stat(public[1]) == before[public[1]]  # a building is not a park
    assert not db.session.scalar(select(func.count()).select_from(PendingChange))
    entry = db.session.scalars(select(AdjustmentLogEntry).where(
        AdjustmentLogEntry.chain_seq > log_start,
        AdjustmentLogEntry.attribute == STATISTICAL)).one()
    assert (entry.old_value, entry.new_value, entry.rule_id, entry.ruleset_version) == (
        "public", "business", "industrial_park_business", version)
    assert entry.customer_id == db.session.scalar(select(Customer.id)
                                                  .where(Customer.code == public[0]))
    assert entry.facts == {"group_type": "industrial_park"}
    _full_run_writes_nothing(app)
    # Out of the group, back to what the other rules say, on the next run.
    park = db.session.scalar(select(CustomerGroup.id)
                             .where(CustomerGroup.name == "Hi-tech park"))
    members.remove_members(db.session.connection(), ANALYST, park, [(1, public[0])], now())
    db.session.commit()
    _reclassify(app, "--changed")
    db.session.expire_all()
    assert _stat(public[0])[0] == "public"
    _full_run_writes_nothing(app)
    # Changing the other group's type to industrial_park reclassifies its member too.
    tower = db.session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == "Some tower"))
    park_type = db.session.scalar(select(GroupType.id).where(GroupType.code == "industrial_park"))
    store.update_group(db.session.connection(), ANALYST, tower, "Some tower", park_type, None,
                       now())
    db.session.commit()
    _reclassify(app, "--changed")
    db.session.expire_all()
    assert _stat(public[1]) == ("business", "industrial_park_business", version)
    # Deleting it: back again.
    store.delete_group(db.session.connection(), ANALYST, tower, now())
    db.session.commit()
    _reclassify(app, "--changed")
    db.session.expire_all()
    assert _stat(public[1])[:2] == before[public[1]][:2]
    _full_run_writes_nothing(app)
    assert db.session.scalar(select(func.count()).select_from(RulesetVersion)
                             .where(RulesetVersion.name == STATISTICAL.value)) >= 2
