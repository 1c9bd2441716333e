"""Staff members who sign in to the product."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from engine.domain import StaffRole
from webapp.database import db
from webapp.models.types import enum_column_type


class StaffUser(UserMixin, db.Model):
    """A person with a role and an org scope; deactivated, never deleted."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[StaffRole] = mapped_column(enum_column_type(StaffRole, "staff_role"))
    #: Root of the org subtree this person may see and change (None: whole province).
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    #: Preferred UI language (``zh`` or ``en``).
    locale: Mapped[str] = mapped_column(String(8), default="zh", server_default="zh")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """A deactivated person cannot sign in (Flask-Login asks this)."""
        return self.active
