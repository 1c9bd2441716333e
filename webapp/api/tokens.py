"""API tokens: issued and revoked by admins (web page, CLI), checked on every API call.

A token is ``cct_`` + 43 random URL-safe characters (256 bits). Only its SHA-256 is
stored: a salt or a slow hash adds nothing to a secret that cannot be guessed, and a
lookup by digest stays one index probe per request.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import ApiToken, StaffUser

#: Marks the secret as this product's token (secret scanners, logs).
PREFIX = "cct_"
#: Characters of the secret kept in clear to tell tokens apart.
SHOWN = 8
#: Longest header value looked at; longer ones cannot be a token.
LONGEST = 200
#: ``last_used_at`` is written at most this often per token (not a write per request).
USE_RESOLUTION = timedelta(minutes=1)
NAME_LENGTH = 100


class TokenError(ValueError):
    """A token cannot be issued or revoked; the message says why."""


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    #: The secret: shown once, never stored.
    secret: str


def digest(secret: str) -> str:
    """Hex SHA-256 of ``secret``, as stored."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def issue(session: Session, owner: StaffUser, name: str, now: datetime, *,
          by: StaffUser | None = None) -> IssuedToken:
    """A new token acting as ``owner``, named ``name``; flushed, not committed."""
    name = " ".join(name.split())
    if not name or len(name) > NAME_LENGTH or not name.isprintable():
        raise TokenError(f"the name must be 1-{NAME_LENGTH} printable characters")
    if not owner.active:
        raise TokenError(f"{owner.username} is deactivated: a token would not work")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(staff_user_id=owner.id, name=name, prefix=secret[:len(PREFIX) + SHOWN],
                     token_hash=digest(secret), created_at=now,
                     created_by_id=by.id if by else None)
    session.add(token)
    session.flush()
    return IssuedToken(token, secret)


def revoke(session: Session, token_id: int, now: datetime, *,
           by: StaffUser | None = None) -> ApiToken:
    """Revoke token ``token_id``; flushed, not committed."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise TokenError(f"no token #{token_id}")
    if token.revoked_at is not None:
        raise TokenError(f"token #{token_id} ({token.name}) is revoked already")
    token.revoked_at = now
    token.revoked_by_id = by.id if by else None
    session.flush()
    return token


def tokens(session: Session) -> list[tuple[ApiToken, StaffUser]]:
    """Every token with the person it acts as, newest first."""
    return [(token, owner) for token, owner in session.execute(
        select(ApiToken, StaffUser).join(StaffUser, StaffUser.id == ApiToken.staff_user_id)
        .order_by(ApiToken.id.desc()))]


def bearer_secret(header: str | None) -> str | None:
    """The secret of an ``Authorization: Bearer <secret>`` header (None: no bearer)."""
    if not header or len(header) > LONGEST + 10:
        return None
    scheme, _, secret = header.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret or len(secret) > LONGEST:
        return None
    return secret


def authenticate(session: Session, secret: str, now: datetime
                 ) -> tuple[ApiToken, StaffUser] | None:
    """The live token of ``secret`` and its active owner (None: unknown, revoked, or the
    owner is deactivated). Records the use (to :data:`USE_RESOLUTION`), uncommitted."""
    found = session.execute(
        select(ApiToken, StaffUser).join(StaffUser, StaffUser.id == ApiToken.staff_user_id)
        .where(ApiToken.token_hash == digest(secret))).first()
    if found is None:
        return None
    token, owner = found
    if token.revoked_at is not None or not owner.active:
        return None
    last = token.last_used_at
    if last is not None and last.tzinfo is None:  # SQLite returns naive UTC
        last = last.replace(tzinfo=now.tzinfo)
    if last is None or now - last >= USE_RESOLUTION:
        token.last_used_at = now
    return token, owner
