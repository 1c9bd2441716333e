"""Organisation tree, billing areas and line plant (junction boxes, number segments)."""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.domain import Channel, OrgKind
from webapp.database import db
from webapp.models.types import enum_column_type


class OrgUnit(db.Model):
    """A unit of the organisation: province → city → centre → department → area → community."""

    __tablename__ = "org_unit"
    __table_args__ = (
        # One unassigned community per channel in each billing area.
        Index(
            "uq_org_unit_unassigned_area_channel",
            "unassigned_billing_area_id",
            "channel",
            unique=True,
        ),
        CheckConstraint(
            "unassigned_billing_area_id IS NULL OR kind = 'community'", name="unassigned_kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Code used by feeds and staff, unique across the whole tree.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[OrgKind] = mapped_column(enum_column_type(OrgKind, "org_kind"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    #: Sales channel; set for departments, areas and communities.
    channel: Mapped[Channel | None] = mapped_column(enum_column_type(Channel, "channel"))
    #: For the automatically created "unassigned" community of a billing area: that area.
    unassigned_billing_area_id: Mapped[int | None] = mapped_column(
        # org_unit and billing_area refer to each other: this key is added after both exist.
        ForeignKey("billing_area.id", use_alter=True)
    )
    #: Retired units stay for history (the audit log refers to them) but take no customers.
    retired: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    parent: Mapped["OrgUnit | None"] = relationship(remote_side=[id])


class BillingArea(db.Model):
    """A billing (local network) area of a city branch; subscribers belong to one."""

    __tablename__ = "billing_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: At most 20 characters, so that ``UA-<code>-key_account`` fits an org-unit code.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    #: At most 80 characters, leaving room for the unassigned communities' names.
    name: Mapped[str] = mapped_column(String(80))
    #: The city branch (org unit of kind ``city``) the area belongs to.
    city_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)


class JunctionBox(db.Model):
    """A junction box of the line plant and the community its lines belong to."""

    __tablename__ = "junction_box"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    billing_area_id: Mapped[int] = mapped_column(ForeignKey("billing_area.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)


class NumberSegment(db.Model):
    """A range of service numbers (same length, inclusive) mapped to a community."""

    __tablename__ = "number_segment"
    __table_args__ = (
        CheckConstraint("range_start <= range_end", name="ordered"),
        CheckConstraint("length(range_start) = length(range_end)", name="same_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    range_start: Mapped[str] = mapped_column(String(20), unique=True)
    range_end: Mapped[str] = mapped_column(String(20), index=True)
    billing_area_id: Mapped[int] = mapped_column(ForeignKey("billing_area.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
