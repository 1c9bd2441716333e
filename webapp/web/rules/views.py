"""Routes of the rule editor: list, decision table, test cases, preview, publish,
history, diff, rollback, import and export. The work is in :mod:`webapp.rulesets`."""

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from engine.catalog import DEFAULT_CATALOG
from engine.domain import Severity
from webapp.database import db
from webapp.models import RulesetChange, RulesetDraft, RulesetVersion, StaffUser
from webapp.rulesets import drafts
from webapp.rulesets.diff import diff_documents
from webapp.rulesets.store import latest_published
from webapp.rulesets.table import Row, outcome_text, table_of
from webapp.web.access import Permission, requires
from webapp.web.rules import editing, testcases
from webapp.web.rules.common import attempt, now, working_or_404
from webapp.web.rules.forms import CommentForm, ImportForm, RevisionForm

blueprint = Blueprint("rules", __name__, url_prefix="/rules")


def _outputs() -> dict[str, str]:
    return {row.name: row.output for row in latest_published(db.session)}


@blueprint.route("/")
@requires(Permission.READ_RULES)
def index() -> Any:
    live = {row.name: row for row in latest_published(db.session)}
    pending = {row.name: row for row in db.session.scalars(select(RulesetDraft))}
    last = dict(db.session.execute(
        select(RulesetChange.name, func.max(RulesetChange.id)).group_by(RulesetChange.name)
    ).all())
    changes = {row.name: row for row in db.session.scalars(
        select(RulesetChange).where(RulesetChange.id.in_(last.values())))}
    people = _people({change.staff_id for change in changes.values()})
    names = sorted(set(live) | set(pending))
    return render_template("rules/index.html", names=names, live=live, drafts=pending,
                           changes=changes, people=people)


def _people(ids: set[int | None]) -> dict[int, StaffUser]:
    wanted = {staff_id for staff_id in ids if staff_id is not None}
    if not wanted:
        return {}
    return {person.id: person for person in db.session.scalars(
        select(StaffUser).where(StaffUser.id.in_(wanted)))}


@blueprint.route("/<name>", methods=["GET"])
@requires(Permission.EDIT_RULES)
def edit(name: str) -> Any:
    working = working_or_404(name)
    return _editor(working, working.document, working.revision)


def _editor(working: drafts.Working, document: dict[str, Any], revision: int,
            unreadable: tuple[tuple[int, str, str], ...] = (), status: int = 200,
            outcome: drafts.Check | None = None) -> Any:
    facts = editing.visible_facts(document, _outputs())
    table = table_of(document)
    _, paths, _ = editing.apply(document, table, _fields(document), facts)
    outcome = outcome or drafts.check(db.session, document)
    placed = editing.place(outcome.report.errors, paths, unreadable)
    output = DEFAULT_CATALOG.outputs.get(document.get("output", ""))
    return render_template(
        "rules/edit.html", working=working, document=document, revision=revision,
        table=table, facts=facts, editing=editing, placed=placed, check=outcome,
        alerts=document.get("hit_policy") == "collect", blank_row=Row(),
        default_text=_fields(document)["default"], severities=[s.value for s in Severity],
        output_values=output.fact.values if output and output.fact else (),
        facts_json={name: {"type": fact.type.value, "meaning": fact.meaning,
                           "ops": editing.operators(fact), "hint": editing.hint(fact)}
                    for name, fact in facts.items()},
        form=RevisionForm(formdata=None, revision=revision),
        comment_form=CommentForm(formdata=None, revision=revision),
    ), status


def _fields(document: dict[str, Any]) -> dict[str, str]:
    return {"title": document.get("title", ""), "description": document.get("description", ""),
            "default": outcome_text(document.get("default"))}


@blueprint.route("/<name>", methods=["POST"])
@requires(Permission.EDIT_RULES)
def save(name: str) -> Any:
    working = working_or_404(name)
    form = RevisionForm()
    if not form.validate_on_submit():
        abort(400, _("The form is incomplete or expired: reload the editor."))
    alerts = working.document.get("hit_policy") == "collect"
    try:
        table, fields = editing.read_table(request.form, alerts)
    except editing.FormError as error:
        abort(400, str(error))
    facts = editing.visible_facts(working.document, _outputs())
    document, _paths, unreadable = editing.apply(working.document, table, fields, facts)
    saved, draft = attempt(lambda: drafts.save_draft(db.session, name, document,
                                                     form.revision.data, current_user, now()))
    if not saved or draft is None:
        return _editor(working, document, form.revision.data, tuple(unreadable), 409)
    outcome = drafts.check(db.session, document)
    if outcome.report.errors or unreadable:
        flash(_("Draft saved with %(count)d problem(s): see the marked cells. It cannot be "
                "published until they are fixed.",
                count=len(outcome.report.errors) + len(unreadable)), "warning")
    else:
        flash(_("Draft saved (revision %(revision)d).", revision=draft.revision), "success")
    return _editor(working_or_404(name), document, draft.revision, tuple(unreadable),
                   422 if unreadable or outcome.report.errors else 200, outcome)


@blueprint.route("/<name>/discard", methods=["POST"])
@requires(Permission.EDIT_RULES)
def discard(name: str) -> Any:
    working_or_404(name)
    form = RevisionForm()
    if not form.validate_on_submit():
        abort(400)
    discarded, _none = attempt(lambda: drafts.discard_draft(
        db.session, name, form.revision.data, current_user, now()))
    if not discarded:
        return redirect(url_for(".edit", name=name))
    flash(_("Draft discarded."), "success")
    return redirect(url_for(".history", name=name))


@blueprint.route("/<name>/publish", methods=["POST"])
@requires(Permission.PUBLISH_RULES)
def publish(name: str) -> Any:
    working_or_404(name)
    form = CommentForm()
    if not form.validate_on_submit():
        flash(_("Say why in a comment (at most 2,000 characters)."), "danger")
        return redirect(url_for(".edit", name=name))
    published, version = attempt(lambda: drafts.publish_draft(
        db.session, name, form.revision.data, form.comment.data, current_user, now()))
    if not published:
        return redirect(url_for(".edit", name=name))
    flash(_("Published %(name)s v%(version)d. The scheduler re-evaluates the customers it "
            "decides.", name=name, version=version), "success")
    return redirect(url_for(".history", name=name))


@blueprint.route("/<name>/history")
@requires(Permission.READ_RULES)
def history(name: str) -> Any:
    working = working_or_404(name)
    versions = db.session.scalars(
        select(RulesetVersion).where(RulesetVersion.name == name,
                                     RulesetVersion.published_at.is_not(None))
        .order_by(RulesetVersion.version.desc())).all()
    changes = db.session.scalars(
        select(RulesetChange).where(RulesetChange.name == name)
        .order_by(RulesetChange.id.desc()).limit(200)).all()
    people = _people({v.created_by_id for v in versions} | {c.staff_id for c in changes})
    return render_template("rules/history.html", working=working, versions=versions,
                           changes=changes, people=people, form=CommentForm())


@blueprint.route("/<name>/diff")
@requires(Permission.READ_RULES)
def diff(name: str) -> Any:
    working = working_or_404(name)
    old, new = request.args.get("old", ""), request.args.get("new", "")
    documents = {}
    for side, chosen in (("old", old), ("new", new)):
        if chosen == "draft" and working.draft is not None:
            documents[side] = working.draft.definition
            continue
        if not chosen.isdigit() or len(chosen) > 9:
            abort(400, _("Choose two versions to compare."))
        documents[side] = _published_version(name, int(chosen)).definition
    return render_template("rules/diff.html", working=working, old=old, new=new,
                           diff=diff_documents(documents["old"], documents["new"]))


def _published_version(name: str, version: int) -> RulesetVersion:
    row = db.session.scalar(select(RulesetVersion).where(
        RulesetVersion.name == name, RulesetVersion.version == version,
        RulesetVersion.published_at.is_not(None)))
    if row is None:
        abort(404)
    return row


@blueprint.route("/<name>/rollback/<int:version>", methods=["POST"])
@requires(Permission.PUBLISH_RULES)
def rollback(name: str, version: int) -> Any:
    working_or_404(name)
    comment = request.form.get("comment", "")
    done, new = attempt(lambda: drafts.roll_back(db.session, name, version, comment,
                                                 current_user, now()))
    if done:
        flash(_("Version %(old)d published again as v%(new)d.", old=version, new=new),
              "success")
    return redirect(url_for(".history", name=name))


@blueprint.route("/<name>/export")
@requires(Permission.READ_RULES)
def export(name: str) -> Any:
    working = working_or_404(name)
    chosen = request.args.get("version", "")
    if chosen.isdigit() and len(chosen) < 10:
        row = _published_version(name, int(chosen))
        document, label = row.definition, f"v{row.version}"
    else:
        document, label = working.document, "draft" if working.draft else "live"
    return Response(drafts.export_yaml(document), mimetype="application/x-yaml", headers={
        "Content-Disposition": f'attachment; filename="{name}-{label}.yaml"'})


@blueprint.route("/import", methods=["GET", "POST"])
@requires(Permission.EDIT_RULES)
def import_file() -> Any:
    form = ImportForm()
    if form.validate_on_submit():
        raw = form.file.data.read(drafts.MAX_DOCUMENT_BYTES + 1)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            line = raw[:error.start].count(b"\n") + 1
            flash(_("Line %(line)d is not UTF-8 text.", line=line), "danger")
            return render_template("rules/import.html", form=form), 400
        imported, draft = attempt(lambda: drafts.import_yaml(db.session, text, current_user,
                                                             now()))
        if not imported or draft is None:
            return render_template("rules/import.html", form=form), 400
        flash(_("Imported as the draft of %(name)s.", name=draft.name), "success")
        return redirect(url_for(".edit", name=draft.name))
    return render_template("rules/import.html", form=form)


testcases.register(blueprint)
