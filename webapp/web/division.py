"""The monthly division review (channel managers): this month's arrivals still in an
unassigned community, moved one by one, by selection, or from an uploaded code list."""

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from webapp.clock import now
from webapp.database import db
from webapp.feeds.code_list import CodeListError, read_code_list
from webapp.pipeline.adjust import AdjustmentRefusedError, MoveReport, move_customers
from webapp.pipeline.arrivals import arrivals, destinations, month_start
from webapp.scope import scope_of
from webapp.web.access import Permission, requires
from webapp.web.adjusting import (
    MoveForm,
    UploadForm,
    form_problems,
    policy,
    refusal_text,
    window_state,
)

blueprint = Blueprint("division", __name__, url_prefix="/division")

#: Customers one form may select (a page shows at most 100).
MAX_SELECTED = 1000
#: Problems listed on the page after a refused upload (all are counted).
SHOWN_PROBLEMS = 200


def _forms() -> tuple[MoveForm, UploadForm]:
    choices = [SelectChoice(code, f"{code} {name}")
               for code, name in destinations(db.session.connection(),
                                              scope_of(db.session.connection(), current_user))]
    move, upload = MoveForm(prefix="move"), UploadForm(prefix="upload")
    for form in (move, upload):
        form.community.choices = [SelectChoice("", ""), *choices]
    return move, upload


@blueprint.route("/")
@requires(Permission.ADJUST_CUSTOMERS)
def index() -> Any:
    return _page(*_forms())


def _page(move: MoveForm, upload: UploadForm, problems: list[tuple[int, str]] | None = None,
          status: int = 200) -> Any:
    rules = policy()
    today = now().astimezone(rules.timezone).date()
    before = request.args.get("before", "")
    if before and not (before.isdigit() and len(before) < 19):
        flash(_("before: expected a customer number."), "danger")
        before, status = "", 400
    rows, following = arrivals(db.session.connection(),
                               scope_of(db.session.connection(), current_user),
                               month_start(today, rules.timezone),
                               before=int(before) if before else None)
    return render_template("division/index.html", rows=rows, following=following,
                           move_form=move, upload_form=upload, window=window_state(),
                           month=today.replace(day=1), problems=problems or [],
                           shown=SHOWN_PROBLEMS), status


@blueprint.route("/move", methods=["POST"])
@requires(Permission.ADJUST_CUSTOMERS)
def move() -> Any:
    move_form, upload_form = _forms()
    codes = [code.strip()[:40] for code in request.form.getlist("customer") if code.strip()]
    if not move_form.validate_on_submit():
        form_problems(move_form)
        return _page(move_form, upload_form, status=400)
    if not codes:
        flash(_("Select at least one customer."), "danger")
        return _page(move_form, upload_form, status=400)
    if len(codes) > MAX_SELECTED:
        flash(_("At most %(max)s customers at once.", max=MAX_SELECTED), "danger")
        return _page(move_form, upload_form, status=400)
    return _move(list(enumerate(dict.fromkeys(codes), start=1)), move_form,
                 (move_form, upload_form))


@blueprint.route("/upload", methods=["POST"])
@requires(Permission.ADJUST_CUSTOMERS)
def upload() -> Any:
    move_form, upload_form = _forms()
    if not upload_form.validate_on_submit():
        form_problems(upload_form)
        return _page(move_form, upload_form, status=400)
    sent = upload_form.file.data
    try:
        codes = read_code_list(sent.filename or "", sent.read())
    except CodeListError as error:
        flash(_("%(file)s: %(reason)s", file=sent.filename, reason=str(error)), "danger")
        return _page(move_form, upload_form, status=400)
    for note in codes.notes:
        flash(note, "info")
    if codes.problems:
        flash(_("Nothing was moved: %(count)s lines of %(file)s cannot be used.",
                count=len(codes.problems), file=sent.filename), "danger")
        return _page(move_form, upload_form, codes.problems, status=400)
    return _move(codes.codes, upload_form, (move_form, upload_form))


def _move(codes: list[tuple[int, str]], form: MoveForm,
          forms: tuple[MoveForm, UploadForm]) -> Any:
    """Move the customers with ``form``'s community and reason; on a refusal, the page
    again with what was wrong."""
    try:
        report: MoveReport = move_customers(db.session, current_user, codes,
                                            form.community.data, form.reason.data, now(),
                                            policy())
    except AdjustmentRefusedError as error:
        db.session.rollback()
        flash(refusal_text(error), "danger")
        return _page(*forms, status=409)
    if report.problems:
        flash(_("Nothing was moved: %(count)s of the customers cannot be moved.",
                count=len(report.problems)), "danger")
        return _page(*forms, report.problems, status=409)
    flash(_("%(moved)s customers moved to %(community)s (%(changed)s line values changed).",
            moved=report.moved, community=form.community.data, changed=report.changed),
          "success")
    return redirect(url_for(".index"), 303)
