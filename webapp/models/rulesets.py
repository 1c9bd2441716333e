"""Ruleset versions: the rule documents as JSON, drafts and published versions."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from webapp.database import db


class RulesetVersion(db.Model):
    """One version of a ruleset. A published version never changes."""

    __tablename__ = "ruleset_version"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(48), index=True)
    version: Mapped[int] = mapped_column(Integer)
    #: What it decides (an attribute, or ``alerts``), copied from the document for queries.
    output: Mapped[str] = mapped_column(String(48))
    #: The ruleset document (the structure of the YAML files in ``rules/``).
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: SHA-256 of the document without its version: loading the same file twice is a no-op.
    checksum: Mapped[str] = mapped_column(String(64))
    #: Where it came from: a file of ``rules/``, or the rule editor.
    origin: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    #: None while a draft.
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The run that evaluated every customer with this version live (a *published* or
    #: *full* run); None while that re-evaluation is due.
    reevaluated_run_id: Mapped[int | None] = mapped_column(ForeignKey("classification_run.id"))
