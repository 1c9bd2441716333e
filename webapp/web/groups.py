"""Customer groups (channel managers in their org subtree, analysts, admins): group
types, groups, their members one by one or from an uploaded code list, and a group's
customers with their classification (page and CSV/XLSX export)."""

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from marshmallow import Schema, ValidationError, fields, validate
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from webapp.clock import now
from webapp.database import db
from webapp.feeds.code_list import MAX_CODE, CodeListError, read_code_list
from webapp.groups import members as member_service
from webapp.groups import store, types
from webapp.groups.access import GroupAccess, GroupRefusedError, access_of
from webapp.groups.members import MemberReport, MemberRow
from webapp.web.access import Permission, requires
from webapp.web.adjusting import form_problems
from webapp.web.exports import Cell, table_response
from webapp.web.listing import export_format, read_filters

blueprint = Blueprint("groups", __name__, url_prefix="/groups")

#: Problems listed on the page after a refused change (all are counted).
SHOWN_PROBLEMS = 200
MEMBER_COLUMNS = (_l("Customer code"), _l("Name"), _l("Statistical attribute"),
                  _l("Marketing attribute"), _l("Service tier"), _l("Lifecycle stage"))


class TypeForm(FlaskForm):
    code = StringField(_l("Code (used by rules)"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=types.MAX_NAME)])


class RenameTypeForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=types.MAX_NAME)])


class GroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=types.MAX_NAME)])
    group_type = SelectField(_l("Group type"), coerce=int, validators=[DataRequired()])
    org_unit = StringField(_l("Kept by (org unit code; empty: province-wide)"),
                           validators=[Optional(), Length(max=40)])


class MemberForm(FlaskForm):
    code = StringField(_l("Customer code"), validators=[DataRequired(), Length(max=MAX_CODE)])


class UploadForm(FlaskForm):
    file = FileField(_l("Customer codes (CSV or XLSX, first column)"),
                     validators=[FileRequired()])
    action = SelectField(_l("Add or remove"), choices=[SelectChoice("add", _l("Add to the group")),
                                                SelectChoice("remove",
                                                             _l("Remove from the group"))])


class EmptyForm(FlaskForm):
    """A form of buttons only (its CSRF token)."""


class GroupFilters(Schema):
    type = fields.Integer(load_default=None, validate=validate.Range(min=1))
    name = fields.String(load_default="", validate=validate.Length(max=100))
    unit = fields.String(load_default="", validate=validate.Length(max=40))
    after = fields.String(load_default=None, validate=validate.Length(max=100))


class MemberPage(Schema):
    after = fields.String(load_default=None, validate=validate.Length(max=MAX_CODE))


def _access() -> GroupAccess:
    return access_of(db.session.connection(), current_user)


def _refused(error: GroupRefusedError) -> None:
    db.session.rollback()
    if error.status == 404:
        abort(404)
    flash(str(error.message), "danger")


def _group_form(prefix: str = "group", **data: Any) -> GroupForm:
    form = GroupForm(prefix=prefix, **data)
    form.group_type.choices = [SelectChoice(row.id, f"{row.code} {row.name}")
                               for row in types.group_types(db.session.connection())]
    return form


# ---- group types ------------------------------------------------------------------------

@blueprint.route("/types/")
@requires(Permission.MANAGE_GROUPS)
def type_list(form: TypeForm | None = None, status: int = 200) -> Any:
    return render_template("groups/types.html", rows=types.group_types(db.session.connection()),
                           form=form or TypeForm(prefix="type"), empty=EmptyForm()), status


@blueprint.route("/types/", methods=["POST"])
@requires(Permission.MANAGE_GROUPS)
def add_type() -> Any:
    form = TypeForm(prefix="type")
    if not form.validate_on_submit():
        form_problems(form)
        return type_list(form, 400)
    try:
        types.add_type(db.session.connection(), current_user.id, form.code.data,
                       form.name.data, now())
    except GroupRefusedError as error:
        _refused(error)
        return type_list(form, error.status)
    db.session.commit()
    flash(_("Group type %(code)s added.", code=form.code.data.strip()), "success")
    return redirect(url_for(".type_list"), 303)


@blueprint.route("/types/<int:type_id>", methods=["POST"])
@requires(Permission.MANAGE_GROUPS)
def rename_type(type_id: int) -> Any:
    form = RenameTypeForm()
    if not form.validate_on_submit():
        form_problems(form)
        return type_list(status=400)
    try:
        types.rename_type(db.session.connection(), current_user.id, type_id, form.name.data,
                          now())
    except GroupRefusedError as error:
        _refused(error)
        return type_list(status=error.status)
    db.session.commit()
    flash(_("Group type renamed."), "success")
    return redirect(url_for(".type_list"), 303)


@blueprint.route("/types/<int:type_id>/delete", methods=["POST"])
@requires(Permission.MANAGE_GROUPS)
def delete_type(type_id: int) -> Any:
    if not EmptyForm().validate_on_submit():
        return type_list(status=400)
    try:
        code = types.delete_type(db.session.connection(), current_user.id, type_id, now())
    except GroupRefusedError as error:
        _refused(error)
        return type_list(status=error.status)
    db.session.commit()
    flash(_("Group type %(code)s deleted.", code=code), "success")
    return redirect(url_for(".type_list"), 303)


# ---- groups -----------------------------------------------------------------------------

@blueprint.route("/")
@requires(Permission.MANAGE_GROUPS)
def index(form: GroupForm | None = None, status: int = 200) -> Any:
    raw = request.args.to_dict()
    filters, problems = read_filters(lambda: GroupFilters().load(raw))
    rows, following = [], None
    if filters is not None:
        rows, following = store.list_groups(
            db.session.connection(), _access(), type_id=filters["type"],
            name=filters["name"].strip(), unit=filters["unit"].strip(), after=filters["after"])
    else:
        status = 400
        for name, messages in problems.items():
            flash(f"{name}: {'; '.join(messages)}", "danger")
    query = {key: value for key, value in raw.items() if key in ("type", "name", "unit")}
    return render_template("groups/index.html", rows=rows, following=following, raw=raw,
                           query=query, form=form or _group_form(),
                           group_types=types.group_types(db.session.connection())), status


@blueprint.route("/", methods=["POST"])
@requires(Permission.MANAGE_GROUPS)
def create() -> Any:
    form = _group_form()
    if not form.validate_on_submit():
        form_problems(form)
        return index(form, 400)
    try:
        group_id = store.create_group(db.session.connection(), _access(), form.name.data,
                                      form.group_type.data, form.org_unit.data, now())
    except GroupRefusedError as error:
        _refused(error)
        return index(form, error.status)
    db.session.commit()
    flash(_("Group %(name)s created.", name=form.name.data.strip()), "success")
    return redirect(url_for(".show", group_id=group_id), 303)


def _group_or_404(access: GroupAccess, group_id: int) -> store.GroupRow:
    try:
        return store.get_group(db.session.connection(), access, group_id)
    except GroupRefusedError:
        abort(404)


def member_cells(row: MemberRow) -> tuple[Cell, ...]:
    """A member as the cells of :data:`MEMBER_COLUMNS` (page and export alike)."""
    return (row.code, row.name, row.statistical_attribute, row.marketing_attribute,
            row.service_tier, row.lifecycle_stage)


@blueprint.route("/<int:group_id>")
@requires(Permission.MANAGE_GROUPS)
def show(group_id: int, problems: list[tuple[int, Any]] | None = None,
         edit: GroupForm | None = None, status: int = 200) -> Any:
    access = _access()
    group = _group_or_404(access, group_id)
    try:
        page = MemberPage().load(request.args.to_dict())
    except ValidationError as error:
        flash(f"after: {'; '.join(error.messages.get('after', []))}", "danger")
        page, status = {"after": None}, 400
    conn = db.session.connection()
    rows, following = member_service.member_rows(conn, access, group_id, after=page["after"])
    edit = edit or _group_form("edit", name=group.name, group_type=group.type_id,
                               org_unit=group.unit_code or "")
    return render_template(
        "groups/show.html", group=group, rows=[(row, member_cells(row)) for row in rows],
        following=following, columns=MEMBER_COLUMNS, problems=problems or [],
        shown=SHOWN_PROBLEMS, hidden=member_service.hidden_members(conn, access, group_id),
        edit=edit, member=MemberForm(prefix="member"), upload=UploadForm(prefix="upload"),
        empty=EmptyForm()), status


@blueprint.route("/<int:group_id>/edit", methods=["POST"])
@requires(Permission.MANAGE_GROUPS)
def update(group_id: int) -> Any:
    form = _group_form("edit")
    if not form.validate_on_submit():
        form_problems(form)
        return show(group_id, edit=form, status=400)
    try:
        changed = store.update_group(db.session.connection(), _access(), group_id,
                                     form.name.data, form.group_type.data, form.org_unit.data,
                                     now())
    except GroupRefusedError as error:
        _refused(error)
        return show(group_id, edit=form, status=error.status)
    db.session.commit()
    flash(_("Group saved.") if changed else _("The group was so already."), "success")
    return redirect(url_for(".show", group_id=group_id), 303)


@blueprint.route("/<int:group_id>/delete", methods=["GET", "POST"])
@requires(Permission.MANAGE_GROUPS)
def delete(group_id: int) -> Any:
    """GET: the confirmation, saying how many members go with the group; POST: delete."""
    access = _access()
    group = _group_or_404(access, group_id)
    form = EmptyForm()
    if request.method == "GET":
        return render_template("groups/delete.html", group=group, form=form)
    if not form.validate_on_submit():
        return render_template("groups/delete.html", group=group, form=form), 400
    gone = store.delete_group(db.session.connection(), access, group_id, now())
    db.session.commit()
    flash(_("Group %(name)s and its %(count)s memberships deleted.", name=gone.name,
            count=gone.members), "success")
    return redirect(url_for(".index"), 303)


def _members_changed(group_id: int, report: MemberReport, adding: bool) -> Any:
    if report.problems:
        db.session.rollback()
        flash(_("Nothing was changed: %(count)s lines cannot be used.",
                count=len(report.problems)), "danger")
        return show(group_id, [(line, str(why)) for line, why in report.problems],
                    status=409)
    db.session.commit()
    if adding:
        flash(_("%(added)s customers added (%(already)s were in the group already).",
                added=report.changed, already=report.unchanged), "success")
    else:
        flash(_("%(removed)s customers removed.", removed=report.changed), "success")
    return redirect(url_for(".show", group_id=group_id), 303)


def _change(group_id: int, codes: list[tuple[int, str]], adding: bool) -> Any:
    change = member_service.add_members if adding else member_service.remove_members
    try:
        report = change(db.session.connection(), _access(), group_id, codes, now())
    except GroupRefusedError as error:
        _refused(error)
        return show(group_id, status=error.status)
    return _members_changed(group_id, report, adding)


@blueprint.route("/<int:group_id>/members", methods=["POST"])
@requires(Permission.MANAGE_GROUPS)
def add_member(group_id: int) -> Any:
    form = MemberForm(prefix="member")
    if not form.validate_on_submit():
        form_problems(form)
        return show(group_id, status=400)
    return _change(group_id, [(1, form.code.data.strip())], adding=True)


@blueprint.route("/<int:group_id>/members/remove", methods=["POST"])
@requires(Permission.MANAGE_GROUPS)
def remove_member(group_id: int) -> Any:
    form = MemberForm(prefix="member")
    if not form.validate_on_submit():
        form_problems(form)
        return show(group_id, status=400)
    return _change(group_id, [(1, form.code.data.strip())], adding=False)


@blueprint.route("/<int:group_id>/members/upload", methods=["POST"])
@requires(Permission.MANAGE_GROUPS)
def upload_members(group_id: int) -> Any:
    form = UploadForm(prefix="upload")
    if not form.validate_on_submit():
        form_problems(form)
        return show(group_id, status=400)
    sent = form.file.data
    try:
        codes = read_code_list(sent.filename or "", sent.read())
    except CodeListError as error:
        flash(_("%(file)s: %(reason)s", file=sent.filename, reason=str(error)), "danger")
        return show(group_id, status=400)
    for note in codes.notes:
        flash(note, "info")
    if codes.problems:
        flash(_("Nothing was changed: %(count)s lines of %(file)s cannot be used.",
                count=len(codes.problems), file=sent.filename), "danger")
        return show(group_id, codes.problems, status=400)
    return _change(group_id, codes.codes, adding=form.action.data == "add")


@blueprint.route("/<int:group_id>/export")
@requires(Permission.MANAGE_GROUPS)
def export(group_id: int) -> Any:
    access = _access()
    group = _group_or_404(access, group_id)
    try:
        fmt = export_format(request.args.to_dict())
    except ValidationError as error:
        return {"errors": error.messages}, 400

    def rows() -> Any:
        with db.engine.connect() as conn:
            for row in member_service.every_member(conn, access, group_id):
                yield member_cells(row)

    return table_response(fmt, f"group-{group.id}", MEMBER_COLUMNS, rows())
