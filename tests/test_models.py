"""Constraints the schema itself enforces, on both databases."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from tests.feeds.helpers import SUBSCRIBERS, load, load_reference
from webapp.models import AdjustmentLogEntry, Alert, Customer, Subscriber

NOW = datetime(2026, 11, 23, tzinfo=UTC)


@pytest.fixture
def subject_ids(engine: Engine, tmp_path: Path) -> tuple[int, int]:
    load_reference(engine, tmp_path)
    load(engine, tmp_path, "subscribers", SUBSCRIBERS)
    with engine.connect() as conn:
        return (conn.scalar(select(Subscriber.id).limit(1)),  # type: ignore[return-value]
                conn.scalar(select(Customer.id).limit(1)))


def _alert(**values: Any) -> dict[str, Any]:
    return {"alert_type": "arrears", "severity": "red", "message": "m", "rule_id": "r1",
            "ruleset_name": "alerts", "ruleset_version": 1, "facts": {"arrears_days": 40},
            "raised_at": NOW, **values}


def _insert(engine: Engine, table: Any, values: dict[str, Any]) -> int:
    with engine.begin() as conn:
        return conn.execute(insert(table).values(values)).inserted_primary_key[0]


def test_an_open_alert_is_raised_once_per_subject_and_rule(
    engine: Engine, subject_ids: tuple[int, int]
) -> None:
    subscriber_id, customer_id = subject_ids
    for subject in ({"subscriber_id": subscriber_id}, {"customer_id": customer_id}):
        first = _insert(engine, Alert.__table__, _alert(**subject))
        with pytest.raises(IntegrityError):
            _insert(engine, Alert.__table__, _alert(**subject))
        _insert(engine, Alert.__table__, _alert(**subject, rule_id="r2"))
        with engine.begin() as conn:
            conn.execute(update(Alert).where(Alert.id == first).values(cleared_at=NOW))
        _insert(engine, Alert.__table__, _alert(**subject))


def test_an_alert_has_exactly_one_subject(engine: Engine, subject_ids: tuple[int, int]) -> None:
    subscriber_id, customer_id = subject_ids
    for subject in ({}, {"subscriber_id": subscriber_id, "customer_id": customer_id}):
        with pytest.raises(IntegrityError):
            _insert(engine, Alert.__table__, _alert(**subject))


def test_a_log_entry_has_one_actor_and_a_subject(
    engine: Engine, subject_ids: tuple[int, int]
) -> None:
    _subscriber_id, customer_id = subject_ids
    entry = {"logged_at": NOW, "customer_id": customer_id, "attribute": "service_tier",
             "old_value": "standard", "new_value": "gold", "chain_seq": 1,
             "chain_hash": "0" * 64}
    _insert(engine, AdjustmentLogEntry.__table__, {**entry, "run_id": 1})
    for broken in ({**entry, "chain_seq": 2},
                   {**entry, "chain_seq": 3, "run_id": 1, "customer_id": None}):
        with pytest.raises(IntegrityError):
            _insert(engine, AdjustmentLogEntry.__table__, broken)
    # The database refuses unknown attributes too, not only the ORM.
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO adjustment_log (logged_at, run_id, customer_id, attribute, chain_seq, "
            "chain_hash) VALUES (:now, 1, :customer, 'shoe_size', 4, :hash)"),
            {"now": NOW, "customer": customer_id, "hash": "0" * 64})
