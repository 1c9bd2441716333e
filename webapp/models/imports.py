"""A record of every feed import, successful or not."""

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.database import db


class ImportRun(db.Model):
    """One ``custclass import`` of one file: what was read and what it did."""

    __tablename__ = "import_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    feed: Mapped[str] = mapped_column(String(32), index=True)
    file_name: Mapped[str] = mapped_column(String(500))
    #: SHA-256 of the file's bytes, to tell re-deliveries apart.
    file_sha256: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: ``ok``, ``partial`` (skip mode with rejects) or ``failed`` (nothing stored).
    status: Mapped[str] = mapped_column(String(8))
    rows_read: Mapped[int] = mapped_column(Integer)
    inserted: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
