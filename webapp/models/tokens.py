"""API tokens: how other systems (CRM, call centre, outbound calls) call the JSON API."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from webapp.database import db


class ApiToken(db.Model):
    """A bearer token acting as one staff member: their role and org scope apply.

    Only the SHA-256 of the secret is stored; the secret is shown once, when issued.
    Revoked tokens stay (who used what, until when); they are never deleted.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The staff member the token acts as.
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    #: What the token is for, e.g. ``CRM nightly sync``.
    name: Mapped[str] = mapped_column(String(100))
    #: The first characters of the secret, to tell tokens apart in lists and logs.
    prefix: Mapped[str] = mapped_column(String(16))
    #: Hex SHA-256 of the whole secret: a leaked table does not give working tokens.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
    #: The admin who issued it (None: from the command line).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    #: Last authenticated request, to the minute (not written on every call).
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The admin who revoked it (None: from the command line, or not revoked).
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
