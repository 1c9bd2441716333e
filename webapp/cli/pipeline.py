"""``custclass reclassify``, ``custclass runs`` and ``custclass audit``."""

from datetime import date, datetime

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from engine.domain import RunKind
from webapp.audit import chain
from webapp.cli.rules import as_of_option
from webapp.database import db
from webapp.models import ClassificationRun
from webapp.pipeline.runs import reclassify


@click.command("reclassify")
@click.option("--all", "kind", flag_value=RunKind.FULL.value,
              help="Every customer and line (a full run).")
@click.option("--changed", "kind", flag_value=RunKind.CHANGED.value, default=True,
              help="What imports and manual changes queued (the default).")
@as_of_option
@click.option("--processes", default=0, show_default=True, type=click.IntRange(0, 64),
              help="Worker processes (0: evaluate in this process).")
@with_appcontext
def reclassify_command(kind: str, as_of: datetime | None, processes: int) -> None:
    """Re-evaluate customers and lines with the published rulesets; store what changed."""
    run = reclassify(db.session, RunKind(kind), as_of.date() if as_of else date.today(),
                     processes=processes)
    click.echo(describe_run(run))
    for example in run.errors.get("examples", []):
        click.echo(f"    {example}", err=True)


def describe_run(run: ClassificationRun) -> str:
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0
    changes = ", ".join(f"{what} {count:,}" for what, count in run.changes.items()) or "none"
    errors = sum(run.errors.get("by_ruleset", {}).values())
    return (f"run {run.id} ({run.kind}, as of {run.as_of}) {run.status}: "
            f"{run.customers:,} customers, {run.subscribers:,} lines in {seconds:.1f} s; "
            f"changes: {changes}; records not decided: {errors:,}"
            + (f"\n  {run.detail}" if run.detail else ""))


@click.command("runs")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@with_appcontext
def runs_command(limit: int) -> None:
    """The latest classification runs, newest first."""
    runs = db.session.scalars(select(ClassificationRun)
                              .order_by(ClassificationRun.id.desc()).limit(limit)).all()
    if not runs:
        click.echo("no runs yet")
    for run in runs:
        click.echo(describe_run(run))


@click.group("audit")
def audit_group() -> None:
    """The adjustment log."""


@audit_group.command("verify")
@with_appcontext
def verify_command() -> None:
    """Check the adjustment log's hash chain; names the first broken row (exit 1)."""
    with db.engine.connect() as conn:
        report = chain.verify(conn)
    if not report.ok:
        raise click.ClickException(
            f"adjustment log BROKEN after {report.rows:,} intact rows, at "
            + (f"row id {report.broken_id} " if report.broken_id is not None else "")
            + f"(chain position {report.broken_seq}): {report.reason}")
    click.echo(f"adjustment log intact: {report.rows:,} rows; chain head {report.last_hash}")

