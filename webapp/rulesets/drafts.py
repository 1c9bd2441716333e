"""Editing rulesets: drafts, checks, publishing, rolling back, import and export.

An analyst works on a draft (one per ruleset). Every save names the draft revision it
was made from; a save made from an older revision is refused with who saved in between,
so two analysts never silently overwrite each other. A draft is saved even when it does
not validate (work is never lost), but only a draft that validates and passes its test
cases can be published. Every change is recorded in ``ruleset_change``.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.schema import NAME
from engine.testcases import TestOutcome, run_tests
from engine.validation import Report
from webapp.models import RulesetChange, RulesetDraft, RulesetVersion, StaffUser
from webapp.rulesets.diff import diff_documents
from webapp.rulesets.files import RuleFileError, parse_document
from webapp.rulesets.store import checksum, latest_published, publish, validate_with_live

#: A draft larger than this (as JSON) is refused: 1,000 rules fit comfortably.
MAX_DOCUMENT_BYTES = 1_000_000
MAX_COMMENT = 2000


class RuleEditError(ValueError):
    """A refused edit; the message says why, for the analyst."""


class StaleDraftError(RuleEditError):
    """The draft changed since the analyst opened it."""


class PublishRefusedError(RuleEditError):
    """The draft does not validate or a test case fails."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass
class Working:
    """What the editor shows for a ruleset: its draft, else its live version."""

    name: str
    document: dict[str, Any]
    #: The draft's revision; 0 when there is no draft yet.
    revision: int
    live: RulesetVersion | None
    draft: RulesetDraft | None


@dataclass
class Check:
    """A document validated with the live rulesets, and its test cases run."""

    report: Report
    tests: list[TestOutcome]

    @property
    def failed_tests(self) -> list[TestOutcome]:
        return [outcome for outcome in self.tests if not outcome.passed]

    @property
    def publishable(self) -> bool:
        return self.report.ok and not self.failed_tests


def working_copy(session: Session, name: str) -> Working | None:
    """The draft of ``name``, else its live version; None if neither exists."""
    draft = session.scalar(select(RulesetDraft).where(RulesetDraft.name == name))
    live = next((row for row in latest_published(session) if row.name == name), None)
    if draft is not None:
        return Working(name, draft.definition, draft.revision, live, draft)
    if live is not None:
        return Working(name, live.definition, 0, live, None)
    return None


def check(session: Session, document: dict[str, Any]) -> Check:
    """Validate ``document`` with the live rulesets and run its test cases."""
    report = validate_with_live(session, {"draft": document})[0]
    if report.ruleset is None:
        return Check(report, [])
    outputs = {row.name: row.output for row in latest_published(session)}
    return Check(report, run_tests(report.ruleset, outputs))


def save_draft(session: Session, name: str, document: dict[str, Any], revision: int,
               staff: StaffUser, now: datetime, action: str = "draft_saved") -> RulesetDraft:
    """Store ``document`` as the draft of ``name``, made from draft ``revision``; the
    change is recorded as ``action``."""
    if document.get("name") != name:
        raise RuleEditError(f"the document is ruleset {document.get('name')!r}, not {name!r}")
    size = len(json.dumps(document, ensure_ascii=False).encode())
    if size > MAX_DOCUMENT_BYTES:
        raise RuleEditError(f"the ruleset is {size:,} bytes; at most {MAX_DOCUMENT_BYTES:,}")
    working = working_copy(session, name)
    previous = working.document if working else {}
    draft = _current_draft(session, name, revision, working)
    staff_id = staff.id
    if draft is None:
        draft = RulesetDraft(name=name, base_version=working.live.version
                             if working and working.live else None, revision=0,
                             definition=document, updated_at=now, updated_by_id=staff_id)
        session.add(draft)
    draft.definition = document
    draft.revision += 1
    draft.updated_at, draft.updated_by_id = now, staff_id
    record(session, name, action, staff, now,
           summary=diff_documents(previous, document).summary())
    session.flush()
    return draft


def _current_draft(session: Session, name: str, revision: int,
                   working: Working | None) -> RulesetDraft | None:
    current = working.revision if working else 0
    if revision != current:
        draft = working.draft if working else None
        who = session.get(StaffUser, draft.updated_by_id) if draft and draft.updated_by_id \
            else None
        by = f" by {who.display_name} ({who.username})" if who else ""
        when = f" at {draft.updated_at:%Y-%m-%d %H:%M}" if draft else ""
        raise StaleDraftError(
            f"the draft of {name} was changed{by}{when} after you opened it (revision "
            f"{current}, yours {revision}); reopen it and apply your change again")
    return working.draft if working else None


def discard_draft(session: Session, name: str, revision: int, staff: StaffUser,
                  now: datetime) -> None:
    working = working_copy(session, name)
    draft = _current_draft(session, name, revision, working)
    if draft is None:
        raise RuleEditError(f"{name} has no draft")
    if working is not None and working.live is None:
        raise RuleEditError(f"{name} was never published: its draft is all there is")
    session.delete(draft)
    record(session, name, "draft_discarded", staff, now)
    session.flush()


def publish_draft(session: Session, name: str, revision: int, comment: str,
                  staff: StaffUser, now: datetime) -> int:
    """Publish the draft as a new version; returns the version number."""
    working = working_copy(session, name)
    draft = _current_draft(session, name, revision, working)
    if draft is None or working is None:
        raise RuleEditError(f"{name} has no draft to publish")
    outcome = check(session, draft.definition)
    if not outcome.publishable:
        problems = [str(problem) for problem in outcome.report.errors] + [
            f"test case {test.name!r}: expected {test.expected}, got {test.actual}"
            for test in outcome.failed_tests]
        raise PublishRefusedError(f"{name} cannot be published: {len(problems)} problem(s)",
                                  problems)
    if working.live is not None and working.live.checksum == checksum(draft.definition):
        raise RuleEditError(f"the draft is the same as live version {working.live.version}")
    version = _publish(session, name, draft.definition, comment, staff, now, "published",
                       working.live)
    session.delete(draft)
    session.flush()
    return version


def roll_back(session: Session, name: str, version: int, comment: str, staff: StaffUser,
              now: datetime) -> int:
    """Publish old ``version`` again as a new version (history is never rewritten)."""
    old = session.scalar(select(RulesetVersion).where(
        RulesetVersion.name == name, RulesetVersion.version == version,
        RulesetVersion.published_at.is_not(None)))
    if old is None:
        raise RuleEditError(f"{name} has no published version {version}")
    live = next((row for row in latest_published(session) if row.name == name), None)
    if live is not None and live.checksum == old.checksum:
        raise RuleEditError(f"version {version} is what is live already (v{live.version})")
    document = {key: value for key, value in old.definition.items() if key != "version"}
    return _publish(session, name, document,
                    f"rollback to v{version}" + (f": {comment}" if comment else ""),
                    staff, now, "rolled_back", live)


def _publish(session: Session, name: str, document: dict[str, Any], comment: str,
             staff: StaffUser, now: datetime, action: str, live: RulesetVersion | None) -> int:
    comment = comment.strip()
    if not comment:
        raise RuleEditError("say why in a comment: it is kept with the version")
    if len(comment) > MAX_COMMENT:
        raise RuleEditError(f"the comment has {len(comment)} characters; at most {MAX_COMMENT}")
    [(_, version, _)] = publish(session, {"rule editor": document}, now, comment=comment,
                                staff_id=staff.id)
    change = diff_documents(live.definition if live else {}, document).summary()
    record(session, name, action, staff, now, version=version, summary=f"{change}. {comment}")
    return version


def import_yaml(session: Session, text: str, staff: StaffUser, now: datetime
                ) -> RulesetDraft:
    """A ruleset file (the YAML of ``rules/``) as the draft of its ruleset, replacing the
    draft there is. Refused when it is not a ruleset document at all."""
    if len(text.encode()) > MAX_DOCUMENT_BYTES:
        raise RuleEditError(f"the file is larger than {MAX_DOCUMENT_BYTES:,} bytes")
    try:
        document = parse_document(text, "the file")
    except RuleFileError as error:
        raise RuleEditError(str(error)) from None
    name = document.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise RuleEditError("the file has no valid ruleset name (name: lower-case letters, "
                            "digits and _)")
    document.pop("version", None)
    problem = shape_problem(document)
    if problem:
        raise RuleEditError(f"the file is not a ruleset: {problem}")
    working = working_copy(session, name)
    return save_draft(session, name, document, working.revision if working else 0, staff, now,
                      "imported")


def shape_problem(document: dict[str, Any]) -> str | None:
    """What keeps ``document`` from being edited as a table at all (a list where text
    belongs...); finer problems are the schema's, shown in the editor."""
    for key in ("title", "description", "output", "subject", "hit_policy"):
        if key in document and not isinstance(document[key], str):
            return f"{key} must be text"
    default = document.get("default")
    if default is not None and not isinstance(default, str) \
            and not (isinstance(default, dict) and isinstance(default.get("fact"), str)):
        return "default must be a value or {fact: name}"
    for key in ("rules", "tests"):
        items = document.get(key, [])
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            return f"{key} must be a list of mappings"
    for index, rule in enumerate(document.get("rules", [])):
        for key in ("id", "title"):
            if key in rule and not isinstance(rule[key], str):
                return f"rules[{index}].{key} must be text"
    return None


def export_yaml(document: dict[str, Any]) -> str:
    """The YAML of a ruleset as the files of ``rules/`` write it."""
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def record(session: Session, name: str, action: str, staff: StaffUser, now: datetime, *,
           version: int | None = None, summary: str = "") -> None:
    session.add(RulesetChange(name=name, at=now, staff_id=staff.id, action=action,
                              version=version, summary=summary))
