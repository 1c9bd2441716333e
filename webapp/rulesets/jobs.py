"""Impact previews as background jobs of the web process.

A preview reads the whole population, so it runs beside the request in a thread with its
own database connections; its progress and result are rows of ``preview_job`` that the
page polls. A preview writes nothing else. A job whose process died stays ``running``
in the table; :func:`start_preview` marks such leftovers failed.
"""

from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.background import start_in_background
from webapp.clock import today
from webapp.database import db
from webapp.models import PreviewJob, RulesetDraft, StaffUser
from webapp.rulesets.store import InvalidRulesetsError, live_rulesets, validate_with_live

#: A job still running after this long is taken for dead (its process was restarted).
STALE_AFTER = timedelta(hours=1)


def start_preview(session: Session, name: str, revision: int, staff: StaffUser) -> int:
    """Record a preview of draft ``revision`` of ``name`` and start it; returns its id."""
    now = datetime.now(UTC)
    session.execute(update(PreviewJob).where(
        PreviewJob.status == "running", PreviewJob.created_at < now - STALE_AFTER)
        .values(status="failed", error="interrupted", finished_at=now))
    job = PreviewJob(name=name, revision=revision, status="running", done=0, total=0,
                     created_by_id=staff.id, created_at=now)
    session.add(job)
    session.commit()
    job_id = job.id
    start_in_background(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        f"preview-{job_id}", lambda: _preview(job_id),
        failed=lambda error: _finish(job_id, "failed", error=f"{type(error).__name__}: {error}"))
    return job_id


def _preview(job_id: int) -> None:
    from webapp.rulesets.preview import preview_impact  # the engine loads with it

    job = db.session.get(PreviewJob, job_id)
    assert job is not None
    draft = db.session.scalar(select(RulesetDraft).where(RulesetDraft.name == job.name))
    if draft is None or draft.revision != job.revision:
        _finish(job_id, "failed", error="the draft changed or was published meanwhile")
        return
    published = live_rulesets(db.session)
    report = validate_with_live(db.session, {"draft": draft.definition})[0]
    if report.ruleset is None or not report.ok:
        raise InvalidRulesetsError([report])
    candidate = [ruleset for ruleset in published if ruleset.name != job.name]
    candidate.append(report.ruleset)
    db.session.commit()

    def progress(done: int, total: int) -> None:
        with db.engine.begin() as conn:
            conn.execute(update(PreviewJob).where(PreviewJob.id == job_id)
                         .values(done=done, total=total))

    with db.engine.connect() as conn:
        impact = preview_impact(conn, published, candidate, today(), progress,
                                processes=current_app.config["RUN_PROCESSES"])
    _finish(job_id, "done", result=impact.as_dict())


def _finish(job_id: int, status: str, *, error: str | None = None,
            result: dict | None = None) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(PreviewJob).where(PreviewJob.id == job_id).values(
            status=status, error=error, result=result, finished_at=datetime.now(UTC)))
