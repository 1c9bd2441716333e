"""Test cases of a ruleset in the editor (given facts → expected outcome), and the
impact preview of its draft. Both work on the draft: saving cases saves the draft."""

from datetime import date
from typing import Any

import yaml
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from webapp.database import db
from webapp.models import PreviewJob
from webapp.rulesets import drafts
from webapp.rulesets.files import RuleFileError, load_yaml
from webapp.rulesets.jobs import start_preview
from webapp.web.access import Permission, requires
from webapp.web.rules.common import attempt, now, working_or_404
from webapp.web.rules.editing import FormError, field_text
from webapp.web.rules.forms import RevisionForm, TestCasesForm

MAX_CASES = 1000


def read_cases(form: MultiDict, alerts: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """The posted test cases in order, and the problems of the ones that cannot be read
    (named by their position and name)."""
    keys = form.getlist("case")
    if len(keys) > MAX_CASES or len(set(keys)) != len(keys):
        raise FormError(f"at most {MAX_CASES} test cases, each once")
    cases, problems = [], []
    for number, key in enumerate(keys, 1):
        name = field_text(form, f"name-{key}").strip()
        label = f"test case {number} ({name or 'no name'})"
        try:
            given = load_yaml(field_text(form, f"given-{key}"), "given") or {}
        except RuleFileError as error:
            problems.append(f"{label}: {error}")
            continue
        if not isinstance(given, dict):
            problems.append(f"{label}: given must be lines of \"fact: value\"")
            continue
        expect_text = field_text(form, f"expect-{key}").strip()
        expect: Any = [item.strip() for item in expect_text.split(",") if item.strip()] \
            if alerts else expect_text
        case: dict[str, Any] = {"name": name, "given": _jsonable(given), "expect": expect}
        as_of = field_text(form, f"as_of-{key}").strip()
        if as_of:
            case["as_of"] = as_of
        cases.append(case)
    return cases, problems


def given_text(given: dict[str, Any] | None) -> str:
    """A case's given facts as the editor shows them: YAML lines ``fact: value``."""
    if not given:
        return ""
    return yaml.safe_dump(given, allow_unicode=True, default_flow_style=False,
                          sort_keys=False).strip()


def _jsonable(given: dict[Any, Any]) -> dict[str, Any]:
    """YAML reads ``2026-01-31`` as a date; documents keep ISO text."""
    return {str(key): value.isoformat() if isinstance(value, date) else value
            for key, value in given.items()}


def register(blueprint: Blueprint) -> None:
    """Add the test-case and preview routes to the rule editor's blueprint."""

    @blueprint.route("/<name>/tests", methods=["GET", "POST"])
    @requires(Permission.EDIT_RULES)
    def tests(name: str) -> Any:
        working = working_or_404(name)
        form = TestCasesForm(revision=working.revision)
        document, status, ran = working.document, 200, request.args.get("run") == "1"
        if form.validate_on_submit():
            alerts = document.get("hit_policy") == "collect"
            try:
                cases, problems = read_cases(request.form, alerts)
            except FormError as error:
                abort(400, str(error))
            if problems:
                for problem in problems:
                    flash(problem, "danger")
                status = 422
            else:
                document = {**document, "tests": cases}
                saved, draft = attempt(lambda: drafts.save_draft(
                    db.session, name, document, form.revision.data, current_user, now()))
                if not saved or draft is None:
                    status = 409
                else:
                    form, ran = TestCasesForm(formdata=None, revision=draft.revision), True
                    flash(_("Test cases saved in the draft (revision %(revision)d).",
                            revision=draft.revision), "success")
        elif request.method == "POST":
            abort(400, _("The form is incomplete or expired: reload the page."))
        outcome = drafts.check(db.session, document) if ran else None
        return render_template("rules/tests.html", working=working_or_404(name), document=document,
                               form=form, check=outcome, given_text=given_text,
                               alerts=document.get("hit_policy") == "collect"), status

    @blueprint.route("/<name>/preview", methods=["POST"])
    @requires(Permission.EDIT_RULES)
    def preview(name: str) -> Any:
        working = working_or_404(name)
        form = RevisionForm()
        if not form.validate_on_submit():
            abort(400)
        if working.draft is None or form.revision.data != working.revision:
            flash(_("Save the draft first: the preview evaluates the saved draft."), "warning")
            return redirect(url_for(".edit", name=name))
        outcome = drafts.check(db.session, working.document)
        if not outcome.report.ok:
            flash(_("The draft has problems: fix them before previewing."), "danger")
            return redirect(url_for(".edit", name=name))
        job = start_preview(db.session, name, working.revision, current_user)
        return redirect(url_for(".preview_status", name=name, job_id=job))

    @blueprint.route("/<name>/preview/<int:job_id>")
    @requires(Permission.EDIT_RULES)
    def preview_status(name: str, job_id: int) -> Any:
        job = db.session.get(PreviewJob, job_id)
        if job is None or job.name != name:
            abort(404)
        if request.args.get("format") == "json":
            return jsonify(status=job.status, done=job.done, total=job.total)
        return render_template("rules/preview.html", working=working_or_404(name), job=job)
