"""Alerts raised by alert rules on a subscriber or a customer."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.domain import Severity
from webapp.database import db
from webapp.models.types import enum_column_type


class Alert(db.Model):
    """One alert; one that stops matching is cleared (``cleared_at``), never deleted."""

    __tablename__ = "alert"
    __table_args__ = (
        CheckConstraint(
            "(subscriber_id IS NULL) <> (customer_id IS NULL)", name="one_subject"
        ),
        # While open, an alert is raised at most once per subject and rule. One index per
        # kind of subject: NULLs never collide in a unique index.
        *(
            Index(
                f"uq_alert_open_{subject}",
                f"{subject}_id",
                "alert_type",
                "rule_id",
                unique=True,
                sqlite_where=text(f"cleared_at IS NULL AND {subject}_id IS NOT NULL"),
                postgresql_where=text(f"cleared_at IS NULL AND {subject}_id IS NOT NULL"),
            )
            for subject in ("subscriber", "customer")
        ),
        # The alert list: newest first, with or without a type; id breaks a run's ties.
        Index("ix_alert_raised_id", "raised_at", "id"),
        Index("ix_alert_type_raised_id", "alert_type", "raised_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscriber.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    alert_type: Mapped[str] = mapped_column(String(64))
    severity: Mapped[Severity] = mapped_column(enum_column_type(Severity, "severity"))
    message: Mapped[str] = mapped_column(Text)
    rule_id: Mapped[str] = mapped_column(String(64))
    ruleset_name: Mapped[str] = mapped_column(String(64))
    ruleset_version: Mapped[int] = mapped_column(Integer)
    #: The facts the rule read when it raised the alert.
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    raised_run_id: Mapped[int | None] = mapped_column(Integer)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
