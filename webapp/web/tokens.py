"""API tokens (administrators): issue a token for a staff account, see when each was
last used, revoke one. The secret is shown once, on the page answering the issue."""

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from webapp.api import tokens
from webapp.database import db
from webapp.models import ApiToken, StaffUser
from webapp.web.access import Permission, requires

blueprint = Blueprint("tokens", __name__, url_prefix="/api-tokens")


class IssueForm(FlaskForm):
    name = StringField(_l("What the token is for"),
                       validators=[DataRequired(), Length(max=tokens.NAME_LENGTH)])
    owner = SelectField(_l("Acts as (its role and org scope apply)"), coerce=int,
                        validators=[DataRequired()])


def _form() -> IssueForm:
    form = IssueForm()
    people = db.session.scalars(select(StaffUser).where(StaffUser.active)
                                .order_by(StaffUser.username))
    form.owner.choices = [(person.id, f"{person.username} · {person.role.value}")
                          for person in people]
    return form


def _page(form: IssueForm, secret: str | None = None) -> str:
    return render_template("tokens/index.html", form=form, rows=tokens.tokens(db.session),
                           secret=secret)


@blueprint.route("/")
@requires(Permission.MANAGE_API_TOKENS)
def index() -> Any:
    return _page(_form())


@blueprint.route("/", methods=["POST"])
@requires(Permission.MANAGE_API_TOKENS)
def issue() -> Any:
    form = _form()
    if not form.validate():
        return _page(form), 400
    owner = db.session.get(StaffUser, form.owner.data)
    try:
        issued = tokens.issue(db.session, owner, form.name.data, datetime.now(UTC),
                              by=current_user)
    except tokens.TokenError:
        form.name.errors = [_("Use 1 to %(count)s printable characters.",
                              count=tokens.NAME_LENGTH)]
        return _page(form), 400
    db.session.commit()
    return _page(_form(), secret=issued.secret)


@blueprint.route("/<int:token_id>/revoke", methods=["POST"])
@requires(Permission.MANAGE_API_TOKENS)
def revoke(token_id: int) -> Any:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        abort(404)
    if token.revoked_at is None:
        tokens.revoke(db.session, token_id, datetime.now(UTC), by=current_user)
        db.session.commit()
        flash(_("Token “%(name)s” is revoked: calls with it are refused from now on.",
                name=token.name), "success")
    else:
        flash(_("Token “%(name)s” was revoked already.", name=token.name), "info")
    return redirect(url_for(".index"))
