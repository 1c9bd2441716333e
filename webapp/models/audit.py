"""The adjustment log: one append-only row per change of a classification value."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.domain import ClassifiedAttribute
from webapp.database import db
from webapp.models.types import enum_column_type


class AdjustmentLogEntry(db.Model):
    """Who changed which attribute of which customer or subscriber, from what to what, why."""

    __tablename__ = "adjustment_log"
    __table_args__ = (
        CheckConstraint(
            "(staff_user_id IS NULL) <> (run_id IS NULL)", name="one_actor"
        ),
        CheckConstraint(
            "customer_id IS NOT NULL OR subscriber_id IS NOT NULL", name="has_subject"
        ),
        # The log browser filters on one of these and reads newest first by chain_seq
        # (keyset pagination), so each filter's index ends with it.
        Index("ix_adjustment_log_customer_seq", "customer_id", "chain_seq"),
        Index("ix_adjustment_log_subscriber_seq", "subscriber_id", "chain_seq"),
        Index("ix_adjustment_log_run_seq", "run_id", "chain_seq"),
        Index("ix_adjustment_log_staff_seq", "staff_user_id", "chain_seq"),
        Index("ix_adjustment_log_attribute_seq", "attribute", "new_value", "chain_seq"),
        Index("ix_adjustment_log_rule_seq", "rule_id", "chain_seq"),
        Index("ix_adjustment_log_ruleset_seq", "ruleset_name", "ruleset_version", "chain_seq"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    logged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: The actor: a scheduler/CLI run (``run_id``) or a named staff member.
    run_id: Mapped[int | None] = mapped_column(Integer)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscriber.id"))
    attribute: Mapped[ClassifiedAttribute] = mapped_column(
        enum_column_type(ClassifiedAttribute, "classified_attribute")
    )
    old_value: Mapped[str | None] = mapped_column(String(64))
    new_value: Mapped[str | None] = mapped_column(String(64))
    #: Why: the deciding rule and ruleset version, or the staff member's reason.
    rule_id: Mapped[str | None] = mapped_column(String(64))
    ruleset_name: Mapped[str | None] = mapped_column(String(64))
    ruleset_version: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    #: The facts the rule read.
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Place in the hash chain (1, 2, ...) and SHA-256 of the previous row's hash and
    #: this row's content (see :mod:`webapp.audit.chain`).
    chain_seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), unique=True)
    chain_hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(db.Model):
    """The end of the adjustment log's hash chain: one row, locked by every append.

    Appends serialise on this row (a row lock on PostgreSQL, the write lock on SQLite),
    so the chain never forks; ``verify`` checks it against the last log row, so cutting
    rows off the end is detected too.
    """

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    last_hash: Mapped[str] = mapped_column(String(64))
