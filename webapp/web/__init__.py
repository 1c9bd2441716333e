"""The web UI: server-rendered pages for the operator's staff.

Extensions are initialised in a deliberate order: Talisman first (its headers go on
every response, errors included), CSRF before the blueprints' forms, then sign-in and
the deny-by-default access check that every request passes.
"""

from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, render_template, session
from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Conflict

from webapp.config import LOCALES
from webapp.database import db
from webapp.web import labels
from webapp.web.access import Permission, can, check_access
from webapp.web.extensions import babel, bootstrap, csrf, limiter, login_manager, talisman
from webapp.web.wording import init_wording

#: What a person hears when someone else's write got in between their check and write.
LOST_RACE = _l("Someone changed the same data meanwhile: nothing was saved. Look again and "
               "retry.")

#: Content Security Policy: nothing inline, nothing from another origin.
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def init_web(app: Flask) -> None:
    """Attach the web UI to ``app``."""
    app.config.setdefault("BOOTSTRAP_SERVE_LOCAL", True)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # Times are stored in UTC and shown in the operator's time zone.
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config["TIMEZONE"])
    talisman.init_app(
        app, force_https=app.config["FORCE_HTTPS"], content_security_policy=CSP,
        frame_options="DENY", session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        strict_transport_security=app.config["FORCE_HTTPS"],
        referrer_policy="same-origin")
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)
    babel.init_app(app, locale_selector=_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)

    from webapp.web.admin_log import blueprint as admin_log
    from webapp.web.alerts import blueprint as alerts
    from webapp.web.audit import blueprint as audit
    from webapp.web.auth import blueprint as auth
    from webapp.web.customers import blueprint as customers
    from webapp.web.division import blueprint as division
    from webapp.web.groups import blueprint as groups
    from webapp.web.home import blueprint as home
    from webapp.web.lineplant import blueprint as lineplant
    from webapp.web.orgtree import blueprint as orgtree
    from webapp.web.reports import blueprint as reports
    from webapp.web.rules import blueprint as rules
    from webapp.web.staff import blueprint as staff
    from webapp.web.targets import blueprint as targets
    from webapp.web.tokens import blueprint as tokens

    for blueprint in (auth, home, rules, audit, customers, division, alerts, targets,
                      tokens, orgtree, staff, admin_log, lineplant, groups, reports):
        app.register_blueprint(blueprint)
    app.before_request(check_access)
    init_wording(app)
    app.context_processor(lambda: {"can": can, "Permission": Permission, "LOCALES": LOCALES,
                                   "get_locale": get_locale, "labels": labels})
    app.add_template_filter(_when, "when")
    for code in (400, 403, 404, 405, 409, 413, 429, 500):
        app.register_error_handler(code, _error_page)
    app.register_error_handler(IntegrityError, _lost_race)


def _when(moment: datetime | None, *, seconds: bool = False, day: bool = False) -> str:
    """A stored time (UTC; naive from SQLite) in the operator's time zone."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    pattern = "yyyy-MM-dd" if day else "yyyy-MM-dd HH:mm:ss" if seconds else "yyyy-MM-dd HH:mm"
    return format_datetime(moment, pattern)


def _locale() -> str:
    if current_user.is_authenticated:
        return current_user.locale
    chosen = session.get("locale")
    return chosen if chosen in LOCALES else current_app.config["BABEL_DEFAULT_LOCALE"]


def _load_user(user_id: str) -> Any:
    from webapp.database import db
    from webapp.models import StaffUser

    user = db.session.get(StaffUser, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def _error_page(error: Any) -> tuple[str, int]:
    code = getattr(error, "code", 500) or 500
    description = getattr(error, "description", "")
    # What a view said when it aborted (werkzeug's stock sentence is not shown).
    detail = description if description != getattr(type(error), "description", None) else ""
    return render_template("error.html", code=code, description=description,
                           detail=detail), code


def _lost_race(_error: IntegrityError) -> Any:
    """A write that passed its checks but lost to someone else's, committed between the
    check and the write (the same name or key stored twice at once): nothing is saved,
    and the person hears so (409, as a page or as JSON under the API) instead of an
    internal error."""
    db.session.rollback()
    return current_app.handle_http_exception(Conflict(str(LOST_RACE)))
