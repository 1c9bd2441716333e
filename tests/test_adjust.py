"""Manual moves and pins: window, org scope, the log, runs respecting pins, expiry."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select, update

from engine.domain import (
    ClassifiedAttribute,
    DecisionSource,
    OrgKind,
    RunKind,
    StaffRole,
)
from webapp.database import db
from webapp.models import (
    AdjustmentLogEntry,
    Customer,
    CustomerDecision,
    OrgUnit,
    StaffUser,
    Subscriber,
    SubscriberDecision,
)
from webapp.pipeline.adjust import (
    AdjustmentRefusedError,
    AdjustmentWindow,
    Policy,
    pin,
)
from webapp.pipeline.runs import reclassify

AS_OF = date(2026, 11, 23)
IN_WINDOW = datetime(2026, 11, 23, 4, tzinfo=UTC)  # noon in Shanghai, the 23rd
POLICY = Policy(AdjustmentWindow(9, 3), ZoneInfo("Asia/Shanghai"))
TIER = ClassifiedAttribute.SERVICE_TIER


def _staff(username: str, unit: OrgUnit | None = None) -> StaffUser:
    staff = StaffUser(username=username, display_name=username, password_hash="x",
                      role=StaffRole.CHANNEL_MANAGER, org_unit_id=unit.id if unit else None)
    db.session.add(staff)
    db.session.commit()
    return staff


def _placed_customer() -> tuple[Customer, OrgUnit]:
    """A customer whose lines sit in one real (not unassigned) community, and that unit."""
    row = db.session.execute(
        select(Subscriber.customer_id, func.min(SubscriberDecision.value))
        .join(SubscriberDecision, SubscriberDecision.subscriber_id == Subscriber.id)
        .join(OrgUnit, OrgUnit.code == SubscriberDecision.value)
        .where(OrgUnit.unassigned_billing_area_id.is_(None))
        .group_by(Subscriber.customer_id)
        .having(func.count(func.distinct(SubscriberDecision.value)) == 1)
        .order_by(Subscriber.customer_id).limit(1)).one()
    community = db.session.scalar(select(OrgUnit).where(OrgUnit.code == row[1]))
    return db.session.get(Customer, row[0]), community


def _log_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AdjustmentLogEntry))


@pytest.fixture
def demo(app: Flask, engine: Engine) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "-n", "200", "--as-of",
                                                AS_OF.isoformat()])
    assert result.exit_code == 0, result.output


def test_a_pin_is_logged_kept_by_runs_and_released_when_it_expires(demo: None) -> None:
    staff = _staff("ana")
    customer, _community = _placed_customer()
    where = (CustomerDecision.customer_id == customer.id, CustomerDecision.attribute == TIER)
    ruled = db.session.scalar(select(CustomerDecision.value).where(*where))
    value = "silver" if ruled != "silver" else "gold"
    logged = _log_count()

    assert pin(db.session, staff, customer, TIER, value, " VIP complaint ", IN_WINDOW,
               POLICY) == 1
    entry = db.session.scalars(select(AdjustmentLogEntry).where(
        AdjustmentLogEntry.chain_seq > logged)).one()
    assert (entry.staff_user_id, entry.run_id, entry.reason) == (staff.id, None, "VIP complaint")
    assert (entry.customer_id, entry.old_value, entry.new_value) == (customer.id, ruled, value)

    reclassify(db.session, RunKind.FULL, AS_OF)
    row = db.session.execute(select(CustomerDecision).where(*where)).scalar_one()
    assert (row.value, row.source, row.rule_value) == (value, DecisionSource.PIN, ruled)

    db.session.execute(update(CustomerDecision).where(*where).values(
        pin_expires_at=datetime(2026, 1, 1, tzinfo=UTC)))
    db.session.commit()
    run = reclassify(db.session, RunKind.CHANGED, AS_OF)
    assert run.changes["pins released"] == 1 and run.customers >= 1
    db.session.expire_all()
    row = db.session.execute(select(CustomerDecision).where(*where)).scalar_one()
    assert (row.value, row.source, row.pin_reason) == (ruled, DecisionSource.RULE, None)
    released = db.session.scalars(select(AdjustmentLogEntry).where(
        AdjustmentLogEntry.reason == "pin expired")).one()
    assert (released.run_id, released.old_value, released.new_value) == (run.id, value, ruled)


def test_moves_and_pins_are_refused_outside_the_window_the_scope_or_the_values(
        demo: None) -> None:
    customer, community = _placed_customer()
    elsewhere = db.session.scalar(select(OrgUnit).where(
        OrgUnit.kind == OrgKind.COMMUNITY, OrgUnit.code != community.code,
        OrgUnit.unassigned_billing_area_id.is_(None)).limit(1))
    manager = _staff("zhang", community.parent)
    outsider = _staff("li", elsewhere)
    logged = _log_count()
    cases = [
        (manager, TIER, "gold", "ok", datetime(2026, 11, 5, 4, tzinfo=UTC),
         "outside the adjustment window (day 9 of a month to day 3 of the next): it opens "
         "on 2026-11-09"),
        (outsider, TIER, "gold", "ok", IN_WINDOW,
         f"customer {customer.code} is in community {community.code}, outside li's org scope"),
        (manager, ClassifiedAttribute.COMMUNITY, elsewhere.code, "ok", IN_WINDOW,
         f"{elsewhere.code} is outside zhang's org scope"),
        (manager, ClassifiedAttribute.COMMUNITY, community.parent.code, "ok", IN_WINDOW,
         f"{community.parent.code} is a {community.parent.kind}, not a community"),
        (manager, ClassifiedAttribute.LIFECYCLE_STAGE, "Z", "ok", IN_WINDOW,
         "lifecycle_stage: 'Z' is not one of A, B, C, D, E"),
        (manager, TIER, "gold", "   ", IN_WINDOW, "a reason is required"),
        (manager, TIER, "gold", "x" * 2001, IN_WINDOW, "longer than 2000 characters"),
    ]
    for staff, attribute, value, reason, now, message in cases:
        with pytest.raises(AdjustmentRefusedError, match=message.replace("(", r"\(")
                           .replace(")", r"\)")):
            pin(db.session, staff, customer, attribute, value, reason, now, POLICY)
    assert _log_count() == logged

    moved = pin(db.session, manager, customer, ClassifiedAttribute.COMMUNITY, community.code,
                "confirmed on site", IN_WINDOW, POLICY)
    assert moved == 0  # already there: pinned, no value changed
    lines = db.session.scalars(select(SubscriberDecision.source).join(
        Subscriber, Subscriber.id == SubscriberDecision.subscriber_id).where(
        Subscriber.customer_id == customer.id)).all()
    assert lines and set(lines) == {DecisionSource.PIN}


def test_the_adjust_command(app: Flask, demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "ADJUSTMENT_WINDOW", "2-1")  # open every day
    _staff("ana")
    customer, _community = _placed_customer()
    runner = app.test_cli_runner()
    done = runner.invoke(args=["adjust", customer.code, "--by", "ana", "--reason", "audit",
                               "--attribute", "lifecycle_stage", "--value", "E"])
    assert done.exit_code == 0, done.output
    assert f"{customer.code}: lifecycle_stage pinned to E" in done.output
    for args, message in [
        (["--attribute", "lifecycle_stage", "--value", "Q"], "refused: lifecycle_stage: 'Q'"),
        (["--community", "NOPE"], "refused: community: no active org unit 'NOPE'"),
        (["--attribute", "service_tier"], "give either --community, or --attribute with"),
    ]:
        refused = runner.invoke(args=["adjust", customer.code, "--by", "ana", "--reason", "r",
                                      *args])
        assert refused.exit_code != 0 and message in refused.output, refused.output
    unknown = runner.invoke(args=["adjust", "C-NONE", "--by", "ana", "--reason", "r",
                                  "--community", "X"])
    assert "no customer 'C-NONE'" in unknown.output


def test_a_pin_set_while_a_run_stores_its_chunk_is_kept_and_not_logged(
        app: Flask, engine: Engine) -> None:
    """The run read the value as rule-made; a pin commits before the run's UPDATE (an
    adjustment made meanwhile on another connection): the pin stays, the rule's change
    is neither written nor logged."""
    from sqlalchemy import event

    from engine.results import Decision, RecordResult
    from webapp.classification.results import store_results

    assert app.test_cli_runner().invoke(
        args=["demo", "-n", "300", "--as-of", AS_OF.isoformat()]).exit_code == 0
    customer_id = db.session.scalar(select(func.min(Customer.id)))
    current = db.session.scalar(select(CustomerDecision.value).where(
        CustomerDecision.customer_id == customer_id, CustomerDecision.attribute == TIER))
    new = "gold" if current != "gold" else "silver"
    logged = db.session.scalar(select(func.count()).select_from(AdjustmentLogEntry))
    db.session.commit()

    def pin_meanwhile(_conn, _cursor, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE CUSTOMER_DECISION"):
            with engine.begin() as other:
                other.execute(update(CustomerDecision).where(
                    CustomerDecision.customer_id == customer_id,
                    CustomerDecision.attribute == TIER).values(
                    value="diamond", source=DecisionSource.PIN, rule_value=current))

    result = RecordResult(customer_id, {TIER.value: Decision(new, "r", "service_tier", 1, {})})
    with engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", pin_meanwhile)
        changes = store_results(conn, [result], [], IN_WINDOW, run_id=999)
        conn.commit()
    assert changes["decisions"] == 0
    row = db.session.execute(select(CustomerDecision.value, CustomerDecision.source).where(
        CustomerDecision.customer_id == customer_id,
        CustomerDecision.attribute == TIER)).one()
    assert (row.value, row.source) == ("diamond", DecisionSource.PIN)
    assert db.session.scalar(select(func.count()).select_from(AdjustmentLogEntry)) == logged
