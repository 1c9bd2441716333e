"""Ruleset versions: the rule documents as JSON, drafts and published versions."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func
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
    #: Why it was published (the analyst's comment), or what it rolled back to.
    comment: Mapped[str | None] = mapped_column(Text)


class RulesetDraft(db.Model):
    """The work in progress on a ruleset in the rule editor: one per ruleset.

    ``revision`` grows at every save; a save names the revision it was made from, so the
    second of two analysts editing the same draft is refused instead of overwriting.
    """

    __tablename__ = "ruleset_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(48), unique=True)
    #: The published version the draft started from (None for a new ruleset).
    base_version: Mapped[int | None] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))


class RulesetChange(db.Model):
    """Who changed a ruleset, when, and what: drafts saved, versions published or rolled
    back, imports. Rows are only ever added."""

    __tablename__ = "ruleset_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(48), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    #: ``draft_saved``, ``published``, ``rolled_back``, ``imported``, ``draft_discarded``.
    action: Mapped[str] = mapped_column(String(32))
    #: The version concerned, when there is one.
    version: Mapped[int | None] = mapped_column(Integer)
    #: What changed, in words (rows added/removed/changed, the comment).
    summary: Mapped[str] = mapped_column(Text, default="")


class PreviewJob(db.Model):
    """An impact preview: a draft evaluated against the published rulesets over the whole
    population, in the background; ``done``/``total`` drive the progress bar."""

    __tablename__ = "preview_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(48), index=True)
    #: The draft revision previewed: a preview of an older revision is out of date.
    revision: Mapped[int] = mapped_column(Integer)
    #: ``running``, ``done`` or ``failed``.
    status: Mapped[str] = mapped_column(String(16), default="running")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
