"""Sign-in, sign-out and the choice of language."""

import re
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from webapp.config import LOCALES
from webapp.database import db
from webapp.models import StaffUser
from webapp.web.access import Permission, public, requires
from webapp.web.extensions import limiter

blueprint = Blueprint("auth", __name__)

#: Compared with when the username is unknown, so both paths take as long.
_NO_USER_HASH = "scrypt:32768:8:1$0000000000000000$" + "0" * 128


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@public
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if request.method != "POST":
        return render_template("auth/login.html", form=form)
    if not form.validate() and "csrf_token" in form.errors:
        flash(_("The page expired: sign in again."), "danger")
        return render_template("auth/login.html", form=form), 400
    user = _authenticate(form) if not form.errors else None
    if user is None:
        flash(_("Wrong username or password, or the account is deactivated."), "danger")
        return render_template("auth/login.html", form=form)
    session.clear()
    login_user(user)
    return redirect(_safe_next(request.args.get("next")))


def _authenticate(form: LoginForm) -> StaffUser | None:
    user = db.session.scalar(select(StaffUser).where(
        StaffUser.username == form.username.data.strip()))
    good = check_password_hash(user.password_hash if user else _NO_USER_HASH,
                               form.password.data)
    return user if user is not None and good and user.active else None


#: A path of this site: one slash, then no slash, backslash, space or control character
#: first (browsers drop tabs and newlines, so "/\t/evil.example" means "//evil.example").
_LOCAL_PATH = re.compile(r"/(?![/\\])[^\x00-\x20\x7f\\]*")


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never another site (open redirect)."""
    if target and _LOCAL_PATH.fullmatch(target):
        return target
    return url_for("home.index")


@blueprint.route("/logout", methods=["POST"])
@requires(Permission.HOME)
def logout() -> Any:
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@blueprint.route("/language/<code>", methods=["POST"])
@public
def language(code: str) -> Any:
    """Switch the UI language; remembered on the person's account when signed in."""
    if code not in LOCALES:
        return redirect(url_for("home.index"))
    session["locale"] = code
    if current_user.is_authenticated:
        current_user.locale = code
        db.session.commit()
    return redirect(_safe_next(request.form.get("next")))
