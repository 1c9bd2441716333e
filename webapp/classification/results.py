"""Storing evaluation results: only what changed is written.

A decision is written when its value changed, with its source (rule, ruleset version,
run) and one adjustment-log row in the same transaction; when only the rule behind an
unchanged value differs, nothing is written (the stored source is the rule that set the
value). A pinned value keeps its pin and only records what the rules would decide.
Alerts are raised once per subject, type and rule while they match, and cleared (not
deleted) when they stop matching.
"""

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select, update

from engine.domain import DecisionSource
from engine.results import RecordResult
from webapp.audit import chain
from webapp.models import Alert, Customer, CustomerDecision, SubscriberDecision


def store_results(conn: Connection, customers: Sequence[RecordResult],
                  lines: Sequence[RecordResult], now: datetime, run_id: int) -> Counter:
    changes: Counter = Counter()
    log: list[dict[str, Any]] = []
    changes["decisions"] += _store_decisions(conn, CustomerDecision, "customer_id", customers,
                                             now, run_id, log)
    changes["decisions"] += _store_decisions(conn, SubscriberDecision, "subscriber_id", lines,
                                             now, run_id, log)
    chain.append(conn, log)
    raised, cleared = _store_alerts(conn, lines, now, run_id)
    changes["alerts raised"] += raised
    changes["alerts cleared"] += cleared
    return changes


def _store_decisions(conn: Connection, model: Any, key: str, results: Sequence[RecordResult],
                     now: datetime, run_id: int, log: list[dict[str, Any]]) -> int:
    """Write the decisions that changed; their adjustment-log rows go to ``log``."""
    ids = [result.key for result in results if result.decisions]
    if not ids:
        return 0
    subject = getattr(model, key)
    stored = {(row[0], row.attribute): row for row in conn.execute(
        select(subject, model.attribute, model.value, model.source, model.rule_id,
               model.rule_value).where(subject.in_(ids)))}
    inserts, updates, pinned, entries = [], [], [], []
    for result in results:
        for attribute, decision in result.decisions.items():
            row = stored.get((result.key, attribute))
            values = {"value": decision.value, "rule_id": decision.rule_id,
                      "ruleset_name": decision.ruleset, "ruleset_version": decision.version,
                      "run_id": run_id, "decided_at": now}
            if row is not None and row.source == DecisionSource.PIN:
                if row.rule_value != decision.value:
                    pinned.append({"k": result.key, "a": attribute, "n_rule_value":
                                   decision.value})
                continue
            if row is None:
                inserts.append({key: result.key, "attribute": attribute,
                                "source": DecisionSource.RULE, **values})
            elif row.value != decision.value:
                updates.append({"k": result.key, "a": attribute,
                                **{f"n_{name}": value for name, value in values.items()}})
            else:
                continue
            entries.append({"logged_at": now, "run_id": run_id, key: result.key,
                        "attribute": attribute, "old_value": row.value if row else None,
                        "new_value": decision.value, "rule_id": decision.rule_id,
                        "ruleset_name": decision.ruleset,
                        "ruleset_version": decision.version, "facts": decision.facts})
    where = and_(subject == bindparam("k"), model.attribute == bindparam("a"))
    if inserts:
        conn.execute(insert(model), inserts)
    if updates:
        # Only rule-made values: a pin set since the read above stays, and is not logged.
        conn.execute(update(model).where(where, model.source == DecisionSource.RULE).values(
            {name[2:]: bindparam(name) for name in updates[0] if name.startswith("n_")}),
            updates)
        tried = {(entry["k"], entry["a"]) for entry in updates}
        written = {tuple(row) for row in conn.execute(select(subject, model.attribute).where(
            subject.in_({entry["k"] for entry in updates}), model.run_id == run_id))}
        entries = [entry for entry in entries
                   if (place := (entry[key], entry["attribute"])) not in tried or place in written]
    if pinned:
        conn.execute(update(model).where(where, model.source == DecisionSource.PIN)
                     .values(rule_value=bindparam("n_rule_value")), pinned)
    log.extend(entries)
    return len(entries)


def mark_evaluated(conn: Connection, where: Any, now: datetime) -> None:
    """Record when the customers ``where(Customer.id)`` selects were evaluated."""
    conn.execute(update(Customer).where(where(Customer.id)).values(evaluated_at=now))


def store_changed(conn: Connection, model: Any, values: dict[int, dict[str, Any]]) -> int:
    """Set the columns ``values`` gives per id (``{id: {column: value}}``, the same
    columns for every id) of the rows of ``model``, where they differ from what is
    stored; returns how many rows were written."""
    if not values:
        return 0
    columns = list(next(iter(values.values())))
    table = model.__table__
    stored = {row[0]: tuple(row[1:]) for row in conn.execute(
        select(table.c.id, *(table.c[column] for column in columns))
        .where(table.c.id.in_(list(values))))}
    changed = [{"k": key, **{f"n_{column}": new[column] for column in columns}}
               for key, new in values.items()
               if stored.get(key) != tuple(new[column] for column in columns)]
    if changed:
        conn.execute(update(model).where(table.c.id == bindparam("k")).values(
            {column: bindparam(f"n_{column}") for column in columns}), changed)
    return len(changed)


def _store_alerts(conn: Connection, lines: Sequence[RecordResult], now: datetime,
                  run_id: int) -> tuple[int, int]:
    ids = [result.key for result in lines if not result.errors]
    if not ids:
        return 0, 0
    open_alerts = {(row.subscriber_id, row.alert_type, row.rule_id): row.id
                   for row in conn.execute(
                       select(Alert.id, Alert.subscriber_id, Alert.alert_type, Alert.rule_id)
                       .where(Alert.subscriber_id.in_(ids), Alert.cleared_at.is_(None)))}
    raised = []
    still = set()
    for result in lines:
        if result.errors:
            continue  # unknown: keep its alerts as they are
        for alert in result.alerts:
            identity = (result.key, alert.type, alert.rule_id)
            if identity in open_alerts:
                still.add(identity)
                continue
            raised.append({"subscriber_id": result.key, "alert_type": alert.type,
                           "severity": alert.severity, "message": alert.message,
                           "rule_id": alert.rule_id, "ruleset_name": alert.ruleset,
                           "ruleset_version": alert.version, "facts": alert.facts,
                           "raised_at": now, "raised_run_id": run_id})
    cleared = [{"alert_id": alert_id} for identity, alert_id in open_alerts.items()
               if identity not in still]
    if raised:
        conn.execute(insert(Alert), raised)
    if cleared:
        conn.execute(update(Alert).where(Alert.id == bindparam("alert_id"))
                     .values(cleared_at=now), cleared)
    return len(raised), len(cleared)
