"""Classification runs: what each run did, for ``custclass runs`` and the dashboard."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.domain import RunKind, RunStatus
from webapp.database import db
from webapp.models.types import enum_column_type


class ClassificationRun(db.Model):
    """One run of the pipeline; its id is the ``system`` actor in the adjustment log."""

    __tablename__ = "classification_run"
    __table_args__ = (Index("ix_classification_run_kind_started", "kind", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RunKind] = mapped_column(enum_column_type(RunKind, "run_kind"))
    status: Mapped[RunStatus] = mapped_column(enum_column_type(RunStatus, "run_status"))
    #: Evaluation date of the rules (``today`` in relative dates).
    as_of: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Host and process running it: a later run marks it interrupted if that is gone.
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    customers: Mapped[int] = mapped_column(Integer, default=0)
    subscribers: Mapped[int] = mapped_column(Integer, default=0)
    #: Values written: decisions changed, alerts raised and cleared, pins released.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Records a ruleset could not decide, by ruleset, and a few examples.
    errors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    detail: Mapped[str | None] = mapped_column(Text)
    #: Where the revenue percentile's comparisons flip, for the population this run ranked
    #: in (see :meth:`webapp.classification.reference.RunReference.cutoffs`): the next run
    #: re-evaluates the customers between its cutoffs and these.
    percentile_cutoffs: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True))
