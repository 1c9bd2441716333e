"""Staff accounts (administrators): list, create, edit role, org scope and language,
deactivate and reactivate, reset a password. The work is in ``webapp.orgtree.staff``."""

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import select
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from engine.domain import OrgKind, StaffRole
from webapp.clock import now
from webapp.config import LOCALES
from webapp.database import db
from webapp.models import OrgUnit, StaffUser
from webapp.orgtree import staff
from webapp.web import labels
from webapp.web.access import Permission, requires
from webapp.web.orgtree import ConfirmForm, attempt

blueprint = Blueprint("staff", __name__, url_prefix="/staff")

_LANGUAGES = {"zh": "中文", "en": "English"}


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, labels.ROLES[role]) for role in StaffRole]


class AccountForm(FlaskForm):
    """What an administrator may change of an account (and gives a new one)."""

    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=100)])
    role = SelectField(_l("Role"), choices=_role_choices)
    org_unit = StringField(_l("Org unit code (empty: the whole province)"),
                           validators=[Optional(), Length(max=40)])
    locale = SelectField(_l("Language"), choices=[SelectChoice(code, _LANGUAGES[code])
                                                    for code in LOCALES])


class NewAccountForm(AccountForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(), Length(max=staff.USERNAME_LENGTH)])
    password = PasswordField(_l("Password (at least 10 characters)"), validators=[
        DataRequired(), Length(min=staff.MIN_PASSWORD, max=staff.MAX_PASSWORD)])
    confirm = PasswordField(_l("Password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password (at least 10 characters)"), validators=[
        DataRequired(), Length(min=staff.MIN_PASSWORD, max=staff.MAX_PASSWORD)])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])


class StaffFilterSchema(Schema):
    """The list's filters, from the query string; every one optional."""

    class Meta:
        unknown = EXCLUDE

    role = fields.String(load_default=None,
                         validate=validate.OneOf([role.value for role in StaffRole]))
    active = fields.String(load_default=None, validate=validate.OneOf(["yes", "no"]))
    q = fields.String(load_default=None, validate=[
        validate.Length(max=64),
        validate.Regexp(r"\A[^\x00-\x1f\x7f]*\Z", error="contains a control character")])
    after = fields.String(load_default=None, validate=validate.Length(max=64))


def _scopes() -> list[tuple[str, str]]:
    """Units offered as an org scope (communities left out of the list: there are
    thousands; their code can still be typed)."""
    return [(code, name) for code, name in db.session.execute(
        select(OrgUnit.code, OrgUnit.name).where(OrgUnit.kind != OrgKind.COMMUNITY,
                                                 OrgUnit.retired.is_(False))
        .order_by(OrgUnit.code))]


@blueprint.route("/")
@requires(Permission.MANAGE_STAFF)
def index() -> Any:
    raw = {key: value.strip() for key, value in request.args.items() if value.strip()}
    try:
        filters = StaffFilterSchema().load(raw)
    except ValidationError as error:
        return render_template("staff/index.html", raw=raw, rows=[], following=None,
                               problems=error.messages, roles=labels.ROLES), 400
    active = {"yes": True, "no": False}.get(filters["active"] or "")
    rows, following = staff.staff_page(
        db.session, role=StaffRole(filters["role"]) if filters["role"] else None,
        active=active, text=filters["q"], after=filters["after"])
    return render_template("staff/index.html", raw=raw, rows=rows, following=following,
                           problems={}, roles=labels.ROLES)


def _new_page(form: NewAccountForm, status: int = 200) -> Any:
    return render_template("staff/new.html", form=form, scopes=_scopes()), status


@blueprint.route("/new")
@requires(Permission.MANAGE_STAFF)
def new() -> Any:
    form = NewAccountForm()
    form.locale.data = "zh"
    return _new_page(form)


@blueprint.route("/new", methods=["POST"])
@requires(Permission.MANAGE_STAFF)
def create() -> Any:
    form = NewAccountForm()
    if not form.validate_on_submit():
        return _new_page(form, 400)
    user, status = attempt(lambda: staff.create_staff(
        db.session, username=form.username.data, display_name=form.display_name.data,
        role=form.role.data, org_code=form.org_unit.data, locale=form.locale.data,
        password=form.password.data, by_id=current_user.id, now=now()), form)
    if status:
        return _new_page(form, status)
    flash(_("%(username)s was created.", username=user.username), "success")
    return redirect(url_for(".show", staff_id=user.id), 303)


def _person(staff_id: int) -> StaffUser:
    user = db.session.get(StaffUser, staff_id)
    if user is None:
        abort(404)
    return user


def _show_page(user: StaffUser, *, account: AccountForm | None = None,
               password: PasswordForm | None = None, status: int = 200) -> Any:
    if account is None:
        unit = db.session.get(OrgUnit, user.org_unit_id) if user.org_unit_id else None
        account = AccountForm(prefix="account", formdata=None, data={
            "display_name": user.display_name, "role": user.role.value,
            "org_unit": unit.code if unit else "", "locale": user.locale})
    return render_template("staff/show.html", user=user, account_form=account,
                           password_form=password or PasswordForm(prefix="password"),
                           confirm_form=ConfirmForm(), scopes=_scopes()), status


@blueprint.route("/<int:staff_id>")
@requires(Permission.MANAGE_STAFF)
def show(staff_id: int) -> Any:
    return _show_page(_person(staff_id))


def _change(user: StaffUser, form: FlaskForm | None, action: Any, done: str,
            **page: Any) -> Any:
    """Run ``action()`` once ``form`` is valid; the page again on a refusal."""
    if not (form if form is not None else ConfirmForm()).validate_on_submit():
        return _show_page(user, status=400, **page)
    changed, status = attempt(action, form)
    if status:
        return _show_page(_person(user.id), status=status, **page)
    flash(_("Nothing changed.") if changed is False else done,
          "info" if changed is False else "success")
    return redirect(url_for(".show", staff_id=user.id), 303)


@blueprint.route("/<int:staff_id>", methods=["POST"])
@requires(Permission.MANAGE_STAFF)
def update(staff_id: int) -> Any:
    user = _person(staff_id)
    form = AccountForm(prefix="account")
    return _change(user, form, lambda: staff.update_staff(
        db.session, user, display_name=form.display_name.data, role=form.role.data,
        org_code=form.org_unit.data, locale=form.locale.data, by_id=current_user.id,
        now=now()), _("%(username)s was saved.", username=user.username), account=form)


@blueprint.route("/<int:staff_id>/password", methods=["POST"])
@requires(Permission.MANAGE_STAFF)
def reset_password(staff_id: int) -> Any:
    user = _person(staff_id)
    form = PasswordForm(prefix="password")
    return _change(user, form, lambda: staff.reset_password(
        db.session, user, form.password.data, by_id=current_user.id, now=now()),
        _("The password of %(username)s was reset.", username=user.username), password=form)


@blueprint.route("/<int:staff_id>/deactivate", methods=["POST"])
@requires(Permission.MANAGE_STAFF)
def deactivate(staff_id: int) -> Any:
    user = _person(staff_id)
    return _change(user, None, lambda: staff.deactivate(
        db.session, user, by_id=current_user.id, now=now()),
        _("%(username)s is deactivated: they can no longer sign in, and their API tokens "
          "are refused.", username=user.username))


@blueprint.route("/<int:staff_id>/reactivate", methods=["POST"])
@requires(Permission.MANAGE_STAFF)
def reactivate(staff_id: int) -> Any:
    user = _person(staff_id)
    return _change(user, None, lambda: staff.reactivate(
        db.session, user, by_id=current_user.id, now=now()),
        _("%(username)s is active again.", username=user.username))
