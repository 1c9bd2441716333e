"""The organisation tree (administrators): browse it with customer counts, add, rename,
move, retire and delete units; billing areas. The work is in ``webapp.orgtree.tree``."""

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from engine.domain import PARENT_KIND, Channel, OrgKind
from webapp.clock import now
from webapp.database import db
from webapp.orgtree import tree
from webapp.orgtree.refusals import Refusal
from webapp.web import LOST_RACE
from webapp.web.access import Permission, requires
from webapp.web.wording import in_reader_language
from webapp.wording import Worded

blueprint = Blueprint("orgtree", __name__, url_prefix="/org")

KINDS = {OrgKind.PROVINCE: _l("province"), OrgKind.CITY: _l("city branch"),
         OrgKind.CENTRE: _l("centre"), OrgKind.DEPARTMENT: _l("department"),
         OrgKind.AREA: _l("area"), OrgKind.COMMUNITY: _l("community")}
CHANNELS = {Channel.PUBLIC: _l("public customers"), Channel.BUSINESS: _l("business customers"),
            Channel.KEY_ACCOUNT: _l("key accounts"), Channel.BUNDLED: _l("bundled customers"),
            Channel.TRANSIENT: _l("transient customers")}
#: The kind of unit that sits under each kind.
CHILD_KIND = {parent: kind for kind, parent in PARENT_KIND.items() if parent is not None}
#: Parameters of the services' refusals that hold a kind or a channel code.
_KIND_PARAMS = ("kind", "parent_kind", "expected")
_CHANNEL_PARAMS = ("channel", "parent_channel")


class UnitForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(kind.value, label)
                                            for kind, label in KINDS.items()])
    parent = HiddenField(validators=[Optional(), Length(max=40)])
    channel = SelectField(_l("Channel"), choices=[SelectChoice("", "—")] + [
        SelectChoice(channel.value, label) for channel, label in CHANNELS.items()])


class RenameForm(FlaskForm):
    name = StringField(_l("New name"), validators=[DataRequired(), Length(max=100)])


class MoveForm(FlaskForm):
    # The service judges the parent (unknown, wrong kind, own sub-unit) and says why.
    parent = SelectField(_l("New parent"), validate_choice=False,
                         validators=[DataRequired(), Length(max=40)])


class ConfirmForm(FlaskForm):
    """Retire and delete: nothing but the CSRF token."""


class AreaForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    city = SelectField(_l("City branch"), validate_choice=False,
                       validators=[DataRequired(), Length(max=40)])


def refusal_text(refusal: Refusal) -> str:
    """A service's refusal in the reader's language, kinds and channels included."""
    params = dict(refusal.message.params)
    for name in _KIND_PARAMS:
        if name in params:
            params[name] = str(KINDS[OrgKind(params[name])])
    for name in _CHANNEL_PARAMS:
        if name in params:
            params[name] = str(CHANNELS[Channel(params[name])])
    return str(in_reader_language(Worded(refusal.message.template, params)))


def refused(refusal: Refusal, form: FlaskForm | None = None) -> None:
    """Undo the transaction, flash the refusal, and mark the field it concerns."""
    db.session.rollback()
    text = refusal_text(refusal)
    flash(text, "danger")
    if form is not None and refusal.field in form:
        form[refusal.field].errors = [*form[refusal.field].errors, text]


def conflicted() -> None:
    db.session.rollback()
    flash(str(LOST_RACE), "danger")


def attempt(action: Callable[[], Any], form: FlaskForm | None = None
            ) -> tuple[Any, int | None]:
    """Run ``action`` and commit: (its result, None); on a refusal or a concurrent change,
    roll back, say why and return (None, the status to answer with)."""
    try:
        result = action()
        db.session.commit()
    except Refusal as refusal:
        refused(refusal, form)
        return None, 409 if refusal.field is None else 400
    except IntegrityError:
        conflicted()
        return None, 409
    return result, None


def _tree() -> tree.OrgTree:
    return tree.load_tree(db.session.connection())


def _found(org: tree.OrgTree, code: str) -> tree.Unit:
    unit = org.by_code(code)
    if unit is None:
        abort(404)
    return unit


def _add_form(parent: tree.Unit | None) -> UnitForm:
    """A blank form to add a unit under ``parent``, its kind and channel preset (not
    read from the request: the page may answer another form's POST)."""
    form = UnitForm(prefix="add", formdata=None)
    kind = CHILD_KIND.get(parent.kind) if parent else OrgKind.PROVINCE
    form.kind.data = kind.value if kind else None
    form.parent.data = parent.code if parent else ""
    form.channel.data = parent.channel.value if parent and parent.channel else ""
    return form


def _move_form(org: tree.OrgTree, unit: tree.Unit, *, submitted: bool = False) -> MoveForm:
    """The move form with the parents the unit's kind and channel allow; blank (the
    current parent chosen) unless it is the one ``submitted``."""
    form = MoveForm(prefix="move") if submitted else MoveForm(prefix="move", formdata=None)
    if not submitted and unit.parent_id is not None:
        form.parent.data = org.units[unit.parent_id].code
    expected = PARENT_KIND[unit.kind]
    form.parent.choices = [SelectChoice("", "")] + [
        SelectChoice(other.code, f"{other.code} {other.name}") for other in org.units.values()
        if other.kind == expected and not other.retired and not other.automatic
        and (unit.channel is None or other.channel in (None, unit.channel))]
    return form


@blueprint.route("/")
@requires(Permission.MANAGE_ORG)
def index() -> Any:
    return _index_page(_add_form(None))


def _index_page(add: UnitForm, status: int = 200) -> Any:
    org = _tree()
    roots = org.children.get(None, [])
    counts = tree.customer_counts(db.session.connection(), [root.id for root in roots])
    return render_template("orgtree/index.html", roots=roots, counts=counts, add_form=add,
                           kinds=KINDS, channels=CHANNELS), status


@blueprint.route("/units/<code>")
@requires(Permission.MANAGE_ORG)
def unit(code: str) -> Any:
    org = _tree()
    shown = _found(org, code)
    return _unit_page(org, shown, add=_add_form(shown))


def _unit_page(org: tree.OrgTree, shown: tree.Unit, *, add: UnitForm | None = None,
               rename: RenameForm | None = None, move: MoveForm | None = None,
               status: int = 200) -> Any:
    children = org.children.get(shown.id, [])
    counts = tree.customer_counts(db.session.connection(),
                                  [shown.id, *(child.id for child in children)])
    if rename is None:
        rename = RenameForm(prefix="rename", formdata=None, data={"name": shown.name})
    move = move or _move_form(org, shown)
    return render_template("orgtree/unit.html", unit=shown, ancestors=org.ancestors(shown),
                           children=children, counts=counts, add_form=add or _add_form(shown),
                           rename_form=rename, move_form=move, confirm_form=ConfirmForm(),
                           can_add=not shown.retired and shown.kind in CHILD_KIND,
                           kinds=KINDS, channels=CHANNELS), status


@blueprint.route("/add", methods=["POST"])
@requires(Permission.MANAGE_ORG)
def add() -> Any:
    org = _tree()
    form = UnitForm(prefix="add")
    parent = org.by_code(form.parent.data or "") if form.parent.data else None

    def again(status: int) -> Any:
        if parent is None:
            return _index_page(form, status)
        return _unit_page(_tree(), parent, add=form, status=status)

    if not form.validate_on_submit():
        return again(400)
    code, status = attempt(lambda: tree.add_unit(
        db.session.connection(), code=form.code.data, name=form.name.data,
        kind=form.kind.data, parent_code=form.parent.data, channel=form.channel.data or None,
        staff_id=current_user.id, now=now()), form)
    if status:
        return again(status)
    flash(_("%(code)s was added.", code=code), "success")
    return redirect(url_for(".unit", code=code), 303)


def _change(code: str, form: FlaskForm, action: Any, done: str, **page: Any) -> Any:
    """Run ``action(conn, code)`` for the unit ``code`` once ``form`` is valid; the unit's
    page again on a refusal, else back to it with ``done``."""
    org = _tree()
    shown = _found(org, code)
    if not form.validate_on_submit():
        return _unit_page(org, shown, status=400, **page)
    changed, status = attempt(lambda: action(db.session.connection()), form)
    if status:
        return _unit_page(_tree(), shown, status=status, **page)
    if changed is False:
        flash(_("Nothing changed."), "info")
    else:
        flash(done, "success")
    return redirect(url_for(".unit", code=shown.code), 303)


@blueprint.route("/units/<code>/rename", methods=["POST"])
@requires(Permission.MANAGE_ORG)
def rename(code: str) -> Any:
    form = RenameForm(prefix="rename")
    return _change(code, form, lambda conn: tree.rename_unit(
        conn, code, form.name.data, staff_id=current_user.id, now=now()),
        _("%(code)s was renamed.", code=code), rename=form)


@blueprint.route("/units/<code>/move", methods=["POST"])
@requires(Permission.MANAGE_ORG)
def move(code: str) -> Any:
    org = _tree()
    shown = _found(org, code)
    form = _move_form(org, shown, submitted=True)
    return _change(code, form, lambda conn: tree.move_unit(
        conn, code, form.parent.data, staff_id=current_user.id, now=now()),
        _("%(code)s was moved; its customers are queued for re-evaluation.", code=code),
        move=form)


@blueprint.route("/units/<code>/retire", methods=["POST"])
@requires(Permission.MANAGE_ORG)
def retire(code: str) -> Any:
    return _change(code, ConfirmForm(), lambda conn: tree.retire_unit(
        conn, code, staff_id=current_user.id, now=now()),
        _("%(code)s is retired.", code=code))


@blueprint.route("/units/<code>/delete", methods=["POST"])
@requires(Permission.MANAGE_ORG)
def delete(code: str) -> Any:
    org = _tree()
    shown = _found(org, code)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _unit_page(org, shown, status=400)
    _done, status = attempt(lambda: tree.delete_unit(db.session.connection(), code,
                                                     staff_id=current_user.id, now=now()))
    if status:
        return _unit_page(_tree(), shown, status=status)
    flash(_("%(code)s was deleted.", code=shown.code), "success")
    parent = org.units.get(shown.parent_id) if shown.parent_id else None
    return redirect(url_for(".unit", code=parent.code) if parent else url_for(".index"), 303)


def _area_form() -> AreaForm:
    form = AreaForm(prefix="area")
    form.city.choices = [SelectChoice("", "")] + [
        SelectChoice(unit.code, f"{unit.code} {unit.name}") for unit in _tree().units.values()
        if unit.kind == OrgKind.CITY and not unit.retired]
    return form


def _areas_page(form: AreaForm, status: int = 200) -> Any:
    return render_template("orgtree/billing_areas.html", form=form,
                           rows=tree.billing_areas(db.session.connection())), status


@blueprint.route("/billing-areas")
@requires(Permission.MANAGE_ORG)
def billing_areas() -> Any:
    return _areas_page(_area_form())


@blueprint.route("/billing-areas", methods=["POST"])
@requires(Permission.MANAGE_ORG)
def add_billing_area() -> Any:
    form = _area_form()
    if not form.validate_on_submit():
        return _areas_page(form, 400)
    created, status = attempt(lambda: tree.add_billing_area(
        db.session.connection(), code=form.code.data, name=form.name.data,
        city_code=form.city.data, staff_id=current_user.id, now=now()), form)
    if status:
        return _areas_page(form, status)
    flash(_("Billing area %(code)s was added with %(count)s unassigned communities.",
            code=form.code.data.strip(), count=len(created)), "success")
    return redirect(url_for(".billing_areas"), 303)
