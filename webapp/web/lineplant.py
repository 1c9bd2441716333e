"""Line plant (admins province-wide, channel managers in their org scope): find junction
boxes and number segments, change the community they map to (one, or many from a file),
with a preview of the lines and customers that will move before anything is saved."""

import json
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from webapp.clock import now, today
from webapp.database import db
from webapp.feeds.code_list import CodeListError
from webapp.lineplant.changes import MAX_CHANGES, Checked, Requested, apply_changes, check_changes
from webapp.lineplant.movement import Movement, PreviewUnavailableError, preview
from webapp.lineplant.search import Filters, Kind, find, search
from webapp.lineplant.targets import OrgIndex, choices_for
from webapp.lineplant.upload import read_changes
from webapp.scope import scope_of
from webapp.web.access import Permission, requires
from webapp.web.adjusting import form_problems
from webapp.web.listing import read_filters

blueprint = Blueprint("lineplant", __name__, url_prefix="/line-plant")
#: Problems listed on a page after a refused batch (all are counted).
SHOWN_PROBLEMS = 200
KIND_LABELS = {Kind.BOX: _l("Junction boxes"), Kind.SEGMENT: _l("Number segments")}


class SearchArgs(Schema):
    """The search form's query string."""

    kind = fields.String(load_default=Kind.BOX.value,
                         validate=validate.OneOf([kind.value for kind in Kind]))
    code = fields.String(load_default="", validate=validate.Regexp(
        r"[A-Za-z0-9_.\-]{0,32}\Z", error="expected the start of a box code"))
    number = fields.String(load_default="", validate=validate.Regexp(
        r"([0-9]{5,20})?\Z", error="expected a service number (5-20 digits)"))
    community = fields.String(load_default="", validate=validate.Length(max=40))
    area = fields.String(load_default="", validate=validate.Length(max=20))
    after = fields.String(load_default=None, validate=validate.Length(min=1, max=32))


class ChangeSchema(Schema):
    """One change carried from the preview to the confirmation."""

    line = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    key = fields.String(required=True, validate=validate.Length(max=32))
    community = fields.String(required=True, validate=validate.Length(max=40))
    start = fields.String(load_default=None, validate=validate.Length(max=20))
    end = fields.String(load_default=None, validate=validate.Length(max=20))
    seen = fields.List(fields.String(allow_none=True, validate=validate.Length(max=40)),
                       required=True, validate=validate.Length(equal=3))


class ConfirmSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([kind.value for kind in Kind]))
    changes = fields.List(fields.Nested(ChangeSchema), required=True,
                          validate=validate.Length(min=1, max=MAX_CHANGES))


class MappingForm(FlaskForm):
    # The server checks the community (scope, area, state) and says why it refuses one;
    # a choice outside the list is not refused here with a vaguer message.
    community = SelectField(_l("New community"), validators=[DataRequired()],
                            validate_choice=False)


class SegmentForm(MappingForm):
    start = StringField(_l("Range start"), validators=[DataRequired(), Length(max=20)])
    end = StringField(_l("Range end"), validators=[DataRequired(), Length(max=20)])


class UploadForm(FlaskForm):
    kind = SelectField(_l("The file maps"), choices=[SelectChoice(kind.value, label)
                                                     for kind, label in KIND_LABELS.items()])
    file = FileField(_l("Changes (CSV or XLSX: code or segment start, new community)"),
                     validators=[FileRequired()])


class ConfirmForm(FlaskForm):
    changes = HiddenField(validators=[DataRequired(), Length(max=450_000)])


def _scope() -> Any:
    return scope_of(db.session.connection(), current_user)


def _community_choices(area: str) -> list[SelectChoice]:
    conn = db.session.connection()
    return [SelectChoice("", ""), *(SelectChoice(code, f"{code} {name}") for code, name
                                   in choices_for(OrgIndex(conn), _scope(), area))]


@blueprint.route("/")
@requires(Permission.MANAGE_LINE_PLANT)
def index() -> Any:
    raw = request.args.to_dict()
    args, problems = read_filters(lambda: SearchArgs().load(raw))
    rows, following, kind = [], None, Kind.BOX
    if args is not None:
        kind = Kind(args["kind"])
        filters = Filters(args["code"], args["number"], args["community"], args["area"])
        rows, following = search(db.session.connection(), _scope(), kind, filters,
                                 after=args["after"])
    for name, messages in problems.items():
        for message in messages:
            flash(f"{name}: {message}", "danger")
    query = {name: raw[name] for name in ("kind", "code", "number", "community", "area")
             if raw.get(name)}
    return render_template("lineplant/index.html", rows=rows, following=following,
                           kind=kind, raw=raw, query=query, kinds=KIND_LABELS,
                           upload_form=UploadForm(prefix="upload"),
                           ), 400 if problems else 200


def _mapping_page(kind: Kind, code: str, form: MappingForm, status: int = 200,
                  problems: list[tuple[int, str]] | None = None) -> Any:
    mapping = find(db.session.connection(), _scope(), kind, code)
    if mapping is None:
        abort(404)
    form.community.choices = _community_choices(mapping.area)
    if isinstance(form, SegmentForm) and not form.is_submitted():
        form.start.data, form.end.data = mapping.key, mapping.end
    return render_template("lineplant/mapping.html", kind=kind, mapping=mapping, form=form,
                           problems=problems or [], shown=SHOWN_PROBLEMS), status


@blueprint.route("/boxes/<code>")
@requires(Permission.MANAGE_LINE_PLANT)
def box(code: str) -> Any:
    return _mapping_page(Kind.BOX, code, MappingForm())


@blueprint.route("/segments/<code>")
@requires(Permission.MANAGE_LINE_PLANT)
def segment(code: str) -> Any:
    return _mapping_page(Kind.SEGMENT, code, SegmentForm())


@blueprint.route("/boxes/<code>/preview", methods=["POST"])
@requires(Permission.MANAGE_LINE_PLANT)
def preview_box(code: str) -> Any:
    form = MappingForm()
    if not form.validate_on_submit():
        form_problems(form)
        return _mapping_page(Kind.BOX, code, form, 400)
    return _preview_single(Kind.BOX, code, form, Requested(1, code, form.community.data))


@blueprint.route("/segments/<code>/preview", methods=["POST"])
@requires(Permission.MANAGE_LINE_PLANT)
def preview_segment(code: str) -> Any:
    form = SegmentForm()
    if not form.validate_on_submit():
        form_problems(form)
        return _mapping_page(Kind.SEGMENT, code, form, 400)
    return _preview_single(Kind.SEGMENT, code, form, Requested(
        1, code, form.community.data, form.start.data.strip(), form.end.data.strip()))


def _preview_single(kind: Kind, code: str, form: MappingForm, requested: Requested) -> Any:
    if find(db.session.connection(), _scope(), kind, code) is None:
        abort(404)
    checked = check_changes(db.session.connection(), _scope(), kind, [requested])
    if checked.problems:
        for _line, why in checked.problems:
            flash(why, "danger")
        return _mapping_page(kind, code, form, 409)
    return _preview_page(kind, checked)


@blueprint.route("/upload", methods=["POST"])
@requires(Permission.MANAGE_LINE_PLANT)
def upload() -> Any:
    form = UploadForm(prefix="upload")
    if not form.validate_on_submit():
        form_problems(form)
        return _refused_upload()
    sent, kind = form.file.data, Kind(form.kind.data)
    try:
        requested, problems, notes = read_changes(sent.filename or "", sent.read())
    except CodeListError as error:
        flash(_("%(file)s: %(reason)s", file=sent.filename, reason=str(error)), "danger")
        return _refused_upload()
    for note in notes:
        flash(note, "info")
    checked = check_changes(db.session.connection(), _scope(), kind, requested)
    problems = sorted(problems + checked.problems)
    if problems:
        flash(_("Nothing was changed: %(count)s lines of %(file)s cannot be used.",
                count=len(problems), file=sent.filename), "danger")
        return _refused_upload(problems)
    return _preview_page(kind, checked)


def _refused_upload(problems: list[tuple[int, str]] | None = None) -> Any:
    return render_template("lineplant/refused.html", problems=problems or [],
                           shown=SHOWN_PROBLEMS), 400


def _preview_page(kind: Kind, checked: Checked) -> Any:
    """The counts of what would move, and the form confirming exactly these changes."""
    try:
        movement: Movement | None = preview(db.session, checked.changes, today())
    except PreviewUnavailableError as error:
        flash(_("The moves cannot be counted: %(why)s", why=str(error)), "warning")
        movement = None
    db.session.rollback()
    payload = {"kind": kind.value, "changes": [
        {"line": change.line, "key": change.key, "community": change.new_community,
         "start": change.new_range[0] if change.new_range else None,
         "end": change.new_range[1] if change.new_range else None,
         "seen": list(change.state())} for change in checked.changes]}
    form = ConfirmForm()
    form.changes.data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return render_template("lineplant/preview.html", kind=kind, changes=checked.changes,
                           effective=len(checked.effective), movement=movement, form=form)


@blueprint.route("/confirm", methods=["POST"])
@requires(Permission.MANAGE_LINE_PLANT)
def confirm() -> Any:
    form = ConfirmForm()
    if not form.validate_on_submit():
        form_problems(form)
        return _refused_upload()
    try:
        payload = ConfirmSchema().load(json.loads(form.changes.data))
    except (ValueError, ValidationError):
        flash(_("The confirmation does not hold a valid list of changes: preview again."),
              "danger")
        return _refused_upload()
    kind = Kind(payload["kind"])
    requested = [Requested(item["line"], item["key"], item["community"], item["start"],
                           item["end"], tuple(item["seen"])) for item in payload["changes"]]
    conn = db.session.connection()
    checked = check_changes(conn, _scope(), kind, requested)
    if checked.problems:
        db.session.rollback()
        flash(_("Nothing was changed: %(count)s of the changes cannot be made.",
                count=len(checked.problems)), "danger")
        return _refused_upload(checked.problems)
    try:
        changed = apply_changes(conn, current_user.id, checked.changes, now())
        db.session.commit()
    except IntegrityError:
        # Someone stored a conflicting segment between the check and the write.
        db.session.rollback()
        flash(_("Nothing was changed: the line plant changed meanwhile. Preview again."),
              "danger")
        return _refused_upload()
    flash(_("%(count)s mappings changed; their lines are queued for the next run.",
            count=changed), "success")
    if len(checked.changes) == 1:
        endpoint = ".box" if kind is Kind.BOX else ".segment"
        key = checked.changes[0].key if kind is Kind.BOX else (
            checked.changes[0].new_range or ("",))[0]
        return redirect(url_for(endpoint, code=key), 303)
    return redirect(url_for(".index", kind=kind.value), 303)
