"""Helpers shared by the rule editor's route modules."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from flask import abort, flash

from engine.schema import NAME
from webapp.database import db
from webapp.rulesets import drafts


def now() -> datetime:
    return datetime.now(UTC)


def working_or_404(name: str) -> drafts.Working:
    """The ruleset's draft or live version; 404 for an unknown (or malformed) name."""
    working = drafts.working_copy(db.session, name) if NAME.match(name) else None
    if working is None:
        abort(404)
    return working


Result = TypeVar("Result")


def attempt(edit: Callable[[], Result]) -> tuple[bool, Result | None]:
    """Run ``edit`` on the session: committed when it goes through; when refused, rolled
    back with the reason (and the problems of a refused publish) flashed. Returns whether
    it went through, and its result."""
    try:
        result = edit()
    except drafts.RuleEditError as error:
        db.session.rollback()
        flash(str(error), "danger")
        for problem in getattr(error, "problems", [])[:20]:
            flash(problem, "danger")
        return False, None
    db.session.commit()
    return True, result
