"""Helpers shared by the rule editor's route modules."""

from datetime import UTC, datetime

from flask import abort

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
