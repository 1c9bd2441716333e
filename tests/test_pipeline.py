"""Reclassification runs, the adjustment log and its hash chain, on SQLite and PostgreSQL."""

import os
import socket
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import Connection, Engine, create_engine, func, select, text, update
from sqlalchemy.exc import DBAPIError

from engine.domain import ClassifiedAttribute, RunKind, RunStatus, VipCard
from webapp.audit import chain
from webapp.database import db
from webapp.models import (
    AdjustmentLogEntry,
    Alert,
    ClassificationRun,
    Customer,
    CustomerDecision,
    PendingChange,
    RulesetVersion,
    Subscriber,
    SubscriberDecision,
    SubscriberMonth,
)
from webapp.models.changes import mark_changed
from webapp.pipeline.runs import reclassify, unevaluated_versions
from webapp.rulesets.store import publish

AS_OF = date(2026, 11, 23)
TIER = ClassifiedAttribute.SERVICE_TIER


def _demo(app: Flask, customers: int) -> FlaskCliRunner:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "-n", str(customers), "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    return runner


def _count(model: object) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_full_run_logs_every_value_it_sets_and_the_chain_verifies(app: Flask,
                                                                      engine: Engine) -> None:
    runner = _demo(app, 200)
    run = db.session.scalars(select(ClassificationRun)).one()
    assert (run.kind, run.status) == (RunKind.FULL, RunStatus.FINISHED)
    decisions = _count(CustomerDecision) + _count(SubscriberDecision)
    assert run.changes["decisions"] == decisions == _count(AdjustmentLogEntry)
    entry = db.session.scalars(select(AdjustmentLogEntry).where(
        AdjustmentLogEntry.attribute == TIER).limit(1)).one()
    assert (entry.run_id, entry.staff_user_id, entry.old_value) == (run.id, None, None)
    assert entry.rule_id and entry.ruleset_name == "service_tier" and entry.ruleset_version == 1
    assert "vip_card" in entry.facts

    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert f"intact: {decisions:,} rows" in verified.output
    listed = runner.invoke(args=["runs"])
    assert f"run {run.id} (full, as of {AS_OF}) finished" in listed.output

    again = runner.invoke(args=["reclassify", "--all", "--as-of", AS_OF.isoformat()])
    assert again.exit_code == 0 and "decisions 0" in again.output, again.output
    assert _count(AdjustmentLogEntry) == decisions  # nothing changed, nothing logged


def test_a_changed_run_takes_only_the_queue_and_logs_old_and_new(app: Flask,
                                                                  engine: Engine) -> None:
    runner = _demo(app, 200)
    customer_id = db.session.scalar(select(func.min(Customer.id)).where(
        Customer.vip_card == VipCard.NONE))
    where = (CustomerDecision.customer_id == customer_id, CustomerDecision.attribute == TIER)
    before = db.session.scalar(select(CustomerDecision.value).where(*where))
    logged = _count(AdjustmentLogEntry)
    now = datetime.now(UTC)
    db.session.execute(update(Customer).where(Customer.id == customer_id)
                       .values(vip_card=VipCard.DIAMOND))
    conn = db.session.connection()
    mark_changed(conn, "customer", select(Customer.id).where(Customer.id == customer_id), now)
    later = select(Customer.id).where(Customer.id == customer_id + 1)  # queued after the run
    mark_changed(conn, "customer", later, now + timedelta(hours=1))
    db.session.commit()

    result = runner.invoke(args=["reclassify", "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    assert "(changed, as of" in result.output and "1 customers" in result.output
    assert db.session.scalar(select(CustomerDecision.value).where(*where)) == "diamond"
    entry = db.session.scalars(select(AdjustmentLogEntry).where(
        AdjustmentLogEntry.chain_seq > logged)).one()
    assert (entry.customer_id, entry.attribute, entry.old_value, entry.new_value) == (
        customer_id, TIER, before, "diamond")
    assert entry.rule_id == "diamond_card" and entry.facts["vip_card"] == "diamond"
    assert db.session.scalars(select(PendingChange.subject_id)).all() == [customer_id + 1]
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def _bypass_triggers(conn: Connection, statement: str) -> None:
    """Run ``statement`` on the log as someone with direct database access would."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(statement))
        return
    triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                 "AND tbl_name = 'adjustment_log'")).all()
    for name, _sql in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    conn.execute(text(statement))
    for _name, sql in triggers:
        conn.exec_driver_sql(sql)


@pytest.mark.parametrize("statement", [
    "UPDATE adjustment_log SET new_value = 'gold' WHERE id = {row}",
    "DELETE FROM adjustment_log WHERE id = {row}",
])
def test_the_log_refuses_changes_and_verify_names_a_tampered_row(
        app: Flask, engine: Engine, statement: str) -> None:
    runner = _demo(app, 60)
    row = db.session.scalar(select(AdjustmentLogEntry.id)
                            .where(AdjustmentLogEntry.chain_seq == 7))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement.format(row=row)))
    with engine.begin() as conn:
        _bypass_triggers(conn, statement.format(row=row))
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 1
    assert "BROKEN after 6 intact rows" in verified.output
    if statement.startswith("UPDATE"):
        assert f"row id {row} (chain position 7): content or hash altered" in verified.output
    else:
        assert "(chain position 8): rows 7..7 of the chain are missing" in verified.output


def test_cutting_rows_off_the_end_is_detected(app: Flask, engine: Engine) -> None:
    _demo(app, 30)
    with engine.begin() as conn:
        last = conn.scalar(select(func.max(AdjustmentLogEntry.chain_seq)))
        _bypass_triggers(conn, f"DELETE FROM adjustment_log WHERE chain_seq >= {last - 1}")
        report = chain.verify(conn)
    assert not report.ok and report.rows == last - 2
    assert f"last extended to row {last}: rows were removed from the end" in report.reason


def test_a_run_left_running_is_marked_interrupted_by_the_next(app: Flask, engine: Engine) -> None:
    started = datetime.now(UTC)
    gone = ClassificationRun(kind=RunKind.FULL, status=RunStatus.RUNNING, as_of=AS_OF,
                             started_at=started, host=socket.gethostname(),
                             pid=2**22 + 1, customers=0, subscribers=0, changes={}, errors={})
    db.session.add(gone)
    db.session.commit()
    run = reclassify(db.session, RunKind.CHANGED, AS_OF)
    assert db.session.get(ClassificationRun, gone.id).status == RunStatus.INTERRUPTED
    assert run.status == RunStatus.FINISHED and run.customers == 0


def test_a_due_run_takes_the_customers_due_by_its_date(app: Flask, engine: Engine) -> None:
    runner = _demo(app, 200)
    due = dict(db.session.execute(select(Customer.id, Customer.due_on)).all())
    month_turn = date(2026, 12, 1)
    assert all(day is not None and AS_OF < day <= month_turn for day in due.values())
    soon = max(day for day in due.values() if day < month_turn)
    expected = sum(1 for day in due.values() if day <= soon)
    assert 0 < expected < len(due)

    result = runner.invoke(args=["reclassify", "--due", "--as-of", soon.isoformat()])
    assert result.exit_code == 0, result.output
    assert f"(due, as of {soon}) finished: {expected} customers" in result.output
    assert db.session.scalar(select(func.min(Customer.due_on))) > soon
    full = runner.invoke(args=["reclassify", "--all", "--as-of", soon.isoformat()])
    assert "changes: decisions 0, alerts raised 0, alerts cleared 0" in full.output, full.output

    turned = runner.invoke(args=["reclassify", "--due", "--as-of", month_turn.isoformat()])
    assert f"finished: {len(due)} customers" in turned.output  # the month turned for all


def test_a_published_run_records_the_versions_it_evaluated(app: Flask, engine: Engine) -> None:
    _demo(app, 30)
    full = db.session.scalars(select(ClassificationRun)).one()
    versions = db.session.scalars(select(RulesetVersion)).all()
    assert versions and all(version.reevaluated_run_id == full.id for version in versions)
    assert unevaluated_versions(db.session.connection()) == []

    tier = next(version for version in versions if version.name == "service_tier")
    document = {**tier.definition, "title": tier.definition["title"] + " (revised)"}
    publish(db.session, {"editor": document}, datetime.now(UTC))
    db.session.commit()
    pending = unevaluated_versions(db.session.connection())
    assert len(pending) == 1
    run = reclassify(db.session, RunKind.PUBLISHED, AS_OF)
    assert (run.kind, run.status) == (RunKind.PUBLISHED, RunStatus.FINISHED)
    assert run.customers == full.customers == _count(Customer)
    assert db.session.get(RulesetVersion, pending[0]).reevaluated_run_id == run.id
    assert unevaluated_versions(db.session.connection()) == []


def test_the_application_role_may_only_read_and_append_the_log(
        app: Flask, engine: Engine, backend: str) -> None:
    runner = _demo(app, 20)
    role = f"custclass_app_{os.getpid()}"
    if backend == "sqlite":
        refused = runner.invoke(args=["audit", "grant", role])
        assert refused.exit_code == 1 and "only on PostgreSQL" in refused.output
        return
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
    try:
        missing = runner.invoke(args=["audit", "grant", "nobody_here"])
        assert missing.exit_code == 1 and "no PostgreSQL role named" in missing.output
        granted = runner.invoke(args=["audit", "grant", role])
        assert granted.exit_code == 0, granted.output
        as_app = create_engine(engine.url.set(username=role))
        try:
            entry = db.session.scalars(select(AdjustmentLogEntry).limit(1)).one()
            with as_app.begin() as conn:  # the application's own work still runs
                assert chain.append(conn, [{
                    "logged_at": datetime.now(UTC), "run_id": entry.run_id,
                    "customer_id": entry.customer_id, "subscriber_id": entry.subscriber_id,
                    "attribute": entry.attribute, "old_value": entry.new_value,
                    "new_value": "x", "reason": "appended by the application role"}]) == 1
                assert chain.verify(conn).ok
            for statement in ("UPDATE adjustment_log SET new_value = 'x'",
                              "ALTER TABLE adjustment_log DISABLE TRIGGER USER",
                              "TRUNCATE adjustment_log"):
                with pytest.raises(DBAPIError, match=r"permission denied|must be owner"), \
                        as_app.begin() as conn:
                    conn.exec_driver_sql(statement)
        finally:
            as_app.dispose()
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')


def test_worker_processes_store_what_a_run_in_process_would(app: Flask, engine: Engine) -> None:
    runner = _demo(app, 400)
    later = date(2027, 2, 3)  # months later: many values change
    result = runner.invoke(args=["reclassify", "--all", "--as-of", later.isoformat(),
                                 "--processes", "2"])
    assert result.exit_code == 0, result.output
    run = db.session.scalars(select(ClassificationRun).order_by(
        ClassificationRun.id.desc()).limit(1)).one()
    assert run.status == RunStatus.FINISHED and run.changes["decisions"] > 0
    assert run.customers == _count(Customer)
    again = reclassify(db.session, RunKind.FULL, later)
    assert again.changes == {"decisions": 0, "alerts raised": 0, "alerts cleared": 0,
                             "pins released": 0}
    assert chain.verify(db.session.connection()).ok


def test_a_run_records_when_it_evaluated_each_customer(app: Flask, engine: Engine) -> None:
    _demo(app, 120)
    first = db.session.scalar(select(func.min(Customer.id)))
    assert db.session.scalar(select(func.count()).select_from(Customer)
                             .where(Customer.evaluated_at.is_(None))) == 0
    before = db.session.scalar(select(Customer.evaluated_at).where(Customer.id == first))
    mark_changed(db.session.connection(), "customer",
                 select(Customer.id).where(Customer.id == first), datetime.now(UTC))
    db.session.commit()
    reclassify(db.session, RunKind.CHANGED, AS_OF)
    stamps = dict(db.session.execute(select(Customer.id, Customer.evaluated_at)).all())
    assert {key for key, stamp in stamps.items() if stamp != before} == {first}
    assert stamps[first] > before


def _biggest_customer() -> tuple[int, list[int]]:
    """The customer with the most lines, and their ids."""
    customer = db.session.scalar(select(Subscriber.customer_id).group_by(Subscriber.customer_id)
                                 .order_by(func.count().desc(), Subscriber.customer_id).limit(1))
    return customer, list(db.session.scalars(select(Subscriber.id).where(
        Subscriber.customer_id == customer).order_by(Subscriber.id)))


def _arrears(line: int, days: int) -> None:
    """What the arrears feed does to a line: its figures change, it is queued."""
    db.session.execute(update(Subscriber).where(Subscriber.id == line)
                       .values(arrears_cents=80_000, arrears_days=days))
    mark_changed(db.session.connection(), "subscriber",
                 select(Subscriber.id).where(Subscriber.id == line), datetime.now(UTC))
    db.session.commit()


def _full_run_changes_nothing() -> None:
    due = dict(db.session.execute(select(Customer.id, Customer.due_on)).all())
    again = reclassify(db.session, RunKind.FULL, AS_OF)
    assert again.changes == {"decisions": 0, "alerts raised": 0, "alerts cleared": 0,
                             "pins released": 0}
    assert dict(db.session.execute(select(Customer.id, Customer.due_on)).all()) == due


def test_a_changed_line_is_evaluated_alone_while_its_customer_keeps_its_outcomes(
        app: Flask, engine: Engine) -> None:
    """The customer is evaluated again from its changed line and what the last
    evaluation left of its other lines; a full run afterwards finds nothing to change."""
    _demo(app, 300)
    _, lines = _biggest_customer()
    assert len(lines) >= 3
    _arrears(lines[1], 120)
    run = reclassify(db.session, RunKind.CHANGED, AS_OF)
    assert (run.customers, run.subscribers) == (1, 1)
    assert run.changes["alerts raised"] >= 1
    _full_run_changes_nothing()


def test_a_customer_is_evaluated_whole_when_its_outcomes_moved_or_were_never_kept(
        app: Flask, engine: Engine) -> None:
    _demo(app, 300)
    customer, lines = _biggest_customer()
    for digest in ("an outcome since changed", None):
        db.session.execute(update(Customer).where(Customer.id == customer)
                           .values(outputs_digest=digest))
        _arrears(lines[0], 100 if digest else 20)
        run = reclassify(db.session, RunKind.CHANGED, AS_OF)
        assert (run.customers, run.subscribers) == (1, len(lines))
        assert db.session.scalar(select(Customer.outputs_digest)
                                 .where(Customer.id == customer)) not in (digest, None)
    _full_run_changes_nothing()


def test_a_customer_is_evaluated_whole_when_a_settled_line_kept_another_years_sums(
        app: Flask, engine: Engine) -> None:
    """A settled line's kept sums stand in for its monthly rows only within their month."""
    _demo(app, 300)
    _, lines = _biggest_customer()
    for kept_month in (date(2026, 9, 1), None):
        db.session.execute(update(Subscriber).where(Subscriber.id == lines[-1])
                           .values(revenue_month=kept_month))
        _arrears(lines[0], 100 if kept_month else 20)
        run = reclassify(db.session, RunKind.CHANGED, AS_OF)
        assert (run.customers, run.subscribers) == (1, len(lines))
        assert db.session.scalar(select(Subscriber.revenue_month)
                                 .where(Subscriber.id == lines[-1])) == date(2026, 10, 1)
    _full_run_changes_nothing()


def test_each_line_keeps_its_revenue_sums_of_the_latest_months_year(
        app: Flask, engine: Engine) -> None:
    """The kept sums equal the monthly rows summed independently: 12 months to October
    2026, the 3 before October, and October (None for a line without an October row)."""
    _demo(app, 300)
    sums = {row.id: (row.year, row.prev3, row.latest) for row in db.session.execute(text(
        "SELECT s.id, COALESCE(SUM(m.cents), 0) AS year,"
        " COALESCE(SUM(CASE WHEN m.month BETWEEN '2026-07-01' AND '2026-09-01'"
        "              THEN m.cents END), 0) AS prev3,"
        " SUM(CASE WHEN m.month = '2026-10-01' THEN m.cents END) AS latest"
        " FROM subscriber s LEFT JOIN ("
        "   SELECT subscriber_id, month, local_revenue_cents + long_distance_revenue_cents"
        "     + international_revenue_cents + data_revenue_cents"
        "     + value_added_revenue_cents AS cents"
        "   FROM subscriber_month WHERE month BETWEEN '2025-11-01' AND '2026-10-01'"
        " ) m ON m.subscriber_id = s.id GROUP BY s.id"))}
    kept = {row.id: (row.revenue_12m_cents, row.revenue_prev3_cents, row.revenue_this_cents)
            for row in db.session.execute(select(
                Subscriber.id, Subscriber.revenue_12m_cents, Subscriber.revenue_prev3_cents,
                Subscriber.revenue_this_cents))}
    assert kept == sums


def test_a_customer_queued_itself_is_evaluated_whole(app: Flask, engine: Engine) -> None:
    _demo(app, 300)
    customer, lines = _biggest_customer()
    _arrears(lines[0], 100)
    mark_changed(db.session.connection(), "customer",
                 select(Customer.id).where(Customer.id == customer), datetime.now(UTC))
    db.session.commit()
    run = reclassify(db.session, RunKind.CHANGED, AS_OF)
    assert (run.customers, run.subscribers) == (1, len(lines))


def test_until_new_versions_are_evaluated_changed_runs_evaluate_customers_whole(
        app: Flask, engine: Engine) -> None:
    """What the last evaluation left of a customer's other lines is of the old rules."""
    _demo(app, 300)
    _, lines = _biggest_customer()
    attribution = db.session.scalars(select(RulesetVersion).where(
        RulesetVersion.name == "attribution")).one()
    document = {**attribution.definition,
                "title": attribution.definition["title"] + " (revised)"}
    publish(db.session, {"editor": document}, datetime.now(UTC))
    db.session.commit()
    _arrears(lines[1], 120)
    run = reclassify(db.session, RunKind.CHANGED, AS_OF)
    assert (run.customers, run.subscribers) == (1, len(lines))


def test_a_changed_line_that_moves_its_customers_outcome_reaches_every_line(
        app: Flask, engine: Engine) -> None:
    """With an alert rule on the customer's tier, a line whose revenue lifts its customer
    into the top 10 % clears that alert on the customer's other, unchanged lines too."""
    _demo(app, 300)
    alerts = db.session.scalars(select(RulesetVersion).where(
        RulesetVersion.name == "alerts")).one().definition
    watch = {"id": "standard_tier_watch", "title": "Standard tier",
             "when": {"fact": "service_tier", "op": "eq", "value": "standard"},
             "then": {"type": "standard_tier_watch", "severity": "green",
                      "message": "Standard tier."}}
    publish(db.session, {"editor": {**alerts, "depends_on": ["service_tier"],
                                    "rules": [*alerts["rules"], watch]}}, datetime.now(UTC))
    db.session.commit()
    reclassify(db.session, RunKind.PUBLISHED, AS_OF)
    customer = db.session.scalar(
        select(Subscriber.customer_id).join(Customer, Customer.id == Subscriber.customer_id)
        .join(CustomerDecision, CustomerDecision.customer_id == Customer.id)
        .where(Customer.vip_card == VipCard.NONE, CustomerDecision.attribute == TIER,
               CustomerDecision.value == "standard")
        .group_by(Subscriber.customer_id).having(func.count() >= 2)
        .order_by(Subscriber.customer_id).limit(1))
    lines = list(db.session.scalars(select(Subscriber.id).where(
        Subscriber.customer_id == customer).order_by(Subscriber.id)))

    def watched() -> set[int]:
        return set(db.session.scalars(select(Alert.subscriber_id).where(
            Alert.subscriber_id.in_(lines), Alert.alert_type == "standard_tier_watch",
            Alert.cleared_at.is_(None))))

    assert watched() == set(lines)
    assert db.session.execute(update(SubscriberMonth).where(
        SubscriberMonth.subscriber_id == lines[0]).values(data_revenue_cents=10**10)).rowcount
    _arrears(lines[0], 0)
    reclassify(db.session, RunKind.CHANGED, AS_OF)
    assert watched() == set()
    _full_run_changes_nothing()
