"""The admin change log: who changed what on the admin pages, from what to what."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.database import db


class AdminChange(db.Model):
    """One change of reference data or of a staff account (org tree, staff, line plant,
    customer groups). Append-only: triggers on both databases refuse UPDATE and DELETE.

    Classification values are not logged here but in the adjustment log; a change here
    that moves customers (a junction box's community, say) queues them, and the run that
    re-evaluates them logs each value it changes there.
    """

    __tablename__ = "admin_change"
    __table_args__ = (
        # The change log page: newest first, of one kind of subject or one subject.
        Index("ix_admin_change_subject_id", "subject", "subject_key", "id"),
        Index("ix_admin_change_staff_id", "staff_user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: Who made it (None: the command line or a feed, no person signed in).
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    #: What kind of thing changed: ``org_unit``, ``billing_area``, ``staff_user``,
    #: ``junction_box``, ``number_segment``, ``group_type``, ``customer_group``.
    subject: Mapped[str] = mapped_column(String(32))
    #: The thing's own key as staff know it: a unit's code, a username, a box code, ...
    subject_key: Mapped[str] = mapped_column(String(100))
    #: What was done: ``created``, ``updated``, ``moved``, ``retired``, ``deleted``,
    #: ``deactivated``, ``password_reset``, ``members_added``, ``members_removed``, ...
    action: Mapped[str] = mapped_column(String(32))
    #: The values before and after (only the fields that changed; None when created /
    #: deleted). Never a password or its hash.
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    new: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
