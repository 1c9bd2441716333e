"""Staff accounts: the rules every account obeys (the admin page and ``custclass users``
share them), create, edit, deactivate and reactivate, reset a password, and the list.

Accounts are never deleted: the adjustment log and the admin change log refer to them.
Deactivating also stops the account's API tokens (``webapp.api.tokens.authenticate``
refuses an inactive owner). Each change writes its admin change log row in the caller's
transaction; a refusal raises :class:`StaffRefusal` before anything is written.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from engine.domain import StaffRole
from webapp.audit.admin_changes import changed_fields, record
from webapp.config import LOCALES
from webapp.feeds.fields import Text
from webapp.models import OrgUnit, StaffUser
from webapp.orgtree.refusals import N_, Refusal

#: Shortest password accepted.
MIN_PASSWORD = 10
#: Longest: a hash of megabytes of input is work an attacker should not get for free.
MAX_PASSWORD = 256
USERNAME_LENGTH = 64
DISPLAY_NAME = Text(100)
#: Accounts a page of the list shows.
PAGE = 50


class StaffRefusal(Refusal):
    """A change of a staff account refused."""


def check_username(username: str | None) -> str:
    username = (username or "").strip()
    if not username or len(username) > USERNAME_LENGTH or not username.isprintable() \
            or any(char.isspace() for char in username):
        raise StaffRefusal("username", N_("The username must be 1-%(count)s characters "
                                          "without spaces."), count=USERNAME_LENGTH)
    return username


def check_password(password: str | None) -> str:
    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise StaffRefusal("password", N_("The password needs at least %(count)s "
                                          "characters."), count=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        raise StaffRefusal("password", N_("The password may have at most %(count)s "
                                          "characters."), count=MAX_PASSWORD)
    return password


def check_display_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise StaffRefusal("display_name", N_("%(column)s is required."), column="display_name")
    try:
        return DISPLAY_NAME.parse(name)
    except ValueError as error:
        raise StaffRefusal("display_name", N_("%(column)s: %(reason)s"), column="display_name",
                           reason=str(error)) from error


def _role(role: str | StaffRole) -> StaffRole:
    try:
        return StaffRole(role)
    except ValueError:
        raise StaffRefusal("role", N_("Choose a role from the list.")) from None


def _locale(locale: str) -> str:
    if locale not in LOCALES:
        raise StaffRefusal("locale", N_("Choose a language from the list."))
    return locale


def _org_unit(session: Session, org_code: str | None) -> OrgUnit | None:
    """The unit of a scope (None: the whole province); it must exist and be in service."""
    code = (org_code or "").strip()
    if not code:
        return None
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code[:40]))
    if unit is None:
        raise StaffRefusal("org_unit", N_("There is no org unit %(code)s."), code=code[:40])
    if unit.retired:
        raise StaffRefusal("org_unit", N_("%(code)s is retired: no one can be scoped to it."),
                           code=unit.code)
    return unit


def _described(session: Session, user: StaffUser) -> dict[str, Any]:
    unit = session.get(OrgUnit, user.org_unit_id) if user.org_unit_id else None
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "org_unit": unit.code if unit else None, "locale": user.locale,
            "active": user.active}


def create_staff(session: Session, *, username: str, display_name: str,
                 role: str | StaffRole, org_code: str | None, locale: str, password: str,
                 by_id: int | None, now: datetime, audited: bool = True) -> StaffUser:
    """Create an active account; flushed, not committed. ``audited=False`` only for the
    development demo's accounts, which nobody creates."""
    username = check_username(username)
    display_name = check_display_name(display_name)
    chosen_role, chosen_locale = _role(role), _locale(locale)
    password = check_password(password)
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        raise StaffRefusal("username", N_("%(username)s exists already."), username=username)
    unit = _org_unit(session, org_code)
    user = StaffUser(username=username, display_name=display_name, role=chosen_role,
                     org_unit_id=unit.id if unit else None, locale=chosen_locale, active=True,
                     password_hash=generate_password_hash(password))
    session.add(user)
    session.flush()
    if audited:
        record(session.connection(), staff_id=by_id, subject="staff_user", key=username,
               action="created", now=now, new=_described(session, user))
    return user


def _other_active_admins(session: Session, user: StaffUser) -> int:
    return session.scalar(select(func.count()).select_from(StaffUser).where(
        StaffUser.role == StaffRole.ADMIN, StaffUser.active, StaffUser.id != user.id)) or 0


def _keeps_an_admin(session: Session, user: StaffUser) -> None:
    if user.active and user.role == StaffRole.ADMIN and not _other_active_admins(session, user):
        raise StaffRefusal(None, N_("%(username)s is the last active administrator: make "
                                    "another administrator first."), username=user.username)


def update_staff(session: Session, user: StaffUser, *, display_name: str,
                 role: str | StaffRole, org_code: str | None, locale: str,
                 by_id: int | None, now: datetime) -> bool:
    """Change name, role, org scope and language; False when nothing differs."""
    display_name = check_display_name(display_name)
    chosen_role, chosen_locale = _role(role), _locale(locale)
    unit = _org_unit(session, org_code)
    if chosen_role != StaffRole.ADMIN:
        _keeps_an_admin(session, user)
    before = _described(session, user)
    after = {**before, "display_name": display_name, "role": chosen_role,
             "org_unit": unit.code if unit else None, "locale": chosen_locale}
    old, new = changed_fields(before, after)
    if not new:
        return False
    user.display_name, user.role, user.locale = display_name, chosen_role, chosen_locale
    user.org_unit_id = unit.id if unit else None
    session.flush()
    record(session.connection(), staff_id=by_id, subject="staff_user", key=user.username,
           action="updated", now=now, old=old, new=new)
    return True


def deactivate(session: Session, user: StaffUser, *, by_id: int | None,
               now: datetime) -> None:
    """The account can no longer sign in, nor its API tokens call the API."""
    if user.id == by_id:
        raise StaffRefusal(None, N_("You cannot deactivate your own account."))
    if not user.active:
        raise StaffRefusal(None, N_("%(username)s is deactivated already."),
                           username=user.username)
    _keeps_an_admin(session, user)
    user.active = False
    session.flush()
    record(session.connection(), staff_id=by_id, subject="staff_user", key=user.username,
           action="deactivated", now=now, old={"active": True}, new={"active": False})


def reactivate(session: Session, user: StaffUser, *, by_id: int | None,
               now: datetime) -> None:
    if user.active:
        raise StaffRefusal(None, N_("%(username)s is active already."),
                           username=user.username)
    user.active = True
    session.flush()
    record(session.connection(), staff_id=by_id, subject="staff_user", key=user.username,
           action="reactivated", now=now, old={"active": False}, new={"active": True})


def reset_password(session: Session, user: StaffUser, password: str, *, by_id: int | None,
                   now: datetime) -> None:
    """Set a new password; the log row says that it happened, never what it is."""
    user.password_hash = generate_password_hash(check_password(password))
    session.flush()
    record(session.connection(), staff_id=by_id, subject="staff_user", key=user.username,
           action="password_reset", now=now)


@dataclass(frozen=True)
class StaffRow:
    user: StaffUser
    org_code: str | None
    org_name: str | None


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def staff_page(session: Session, *, role: StaffRole | None = None, active: bool | None = None,
               text: str | None = None, after: str | None = None, size: int = PAGE
               ) -> tuple[list[StaffRow], str | None]:
    """Accounts by username matching the filters (``text``: part of the username or the
    display name, any case), from after ``after``; and the key of the next page."""
    query = (select(StaffUser, OrgUnit.code, OrgUnit.name)
             .outerjoin(OrgUnit, OrgUnit.id == StaffUser.org_unit_id)
             .order_by(StaffUser.username))
    if role is not None:
        query = query.where(StaffUser.role == role)
    if active is not None:
        query = query.where(StaffUser.active.is_(active))
    if text:
        pattern = f"%{_escaped(text.lower())}%"
        query = query.where(or_(func.lower(StaffUser.username).like(pattern, escape="\\"),
                                func.lower(StaffUser.display_name).like(pattern, escape="\\")))
    if after:
        query = query.where(StaffUser.username > after)
    rows = [StaffRow(user, code, name) for user, code, name in session.execute(
        query.limit(size + 1))]
    following = rows[size - 1].user.username if len(rows) > size else None
    return rows[:size], following
