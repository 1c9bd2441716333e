"""``custclass reclassify``, ``scheduler``, ``runs``, ``adjust`` and ``audit``."""

import logging
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from engine.domain import ClassifiedAttribute, RunKind
from webapp.audit import chain
from webapp.audit.roles import RoleError, grant_application_role
from webapp.cli.rules import as_of_option
from webapp.clock import today
from webapp.database import db
from webapp.models import ClassificationRun, Customer, StaffUser
from webapp.pipeline.adjust import AdjustmentRefusedError, Policy, pin
from webapp.pipeline.runs import reclassify
from webapp.pipeline.scheduler import run_scheduler


@click.command("reclassify")
@click.option("--all", "kind", flag_value=RunKind.FULL.value,
              help="Every customer and line (a full run).")
@click.option("--changed", "kind", flag_value=RunKind.CHANGED.value, default=True,
              help="What imports and manual changes queued (the default).")
@click.option("--due", "kind", flag_value=RunKind.DUE.value,
              help="What may change with the date alone (the daily run), and the queue.")
@click.option("--published", "kind", flag_value=RunKind.PUBLISHED.value,
              help="Every customer, recording that the published versions were evaluated.")
@as_of_option
@click.option("--processes", type=click.IntRange(0, 64),
              help="Worker processes (0: all in this process; default: "
                   "CUSTCLASS_RUN_PROCESSES, the number of CPUs).")
@with_appcontext
def reclassify_command(kind: str, as_of: datetime | None, processes: int | None) -> None:
    """Re-evaluate customers and lines with the published rulesets; store what changed."""
    run = reclassify(db.session, RunKind(kind), as_of.date() if as_of else today(),
                     processes=current_app.config["RUN_PROCESSES"] if processes is None
                     else processes)
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


@click.command("scheduler")
@click.option("--standby-poll", default=10.0, show_default=True,
              type=click.FloatRange(0.1, 3600),
              help="Seconds between a stand-by's attempts to become the active scheduler.")
@with_appcontext
def scheduler_command(standby_poll: float) -> None:
    """Run the re-evaluation jobs (changed, daily due, published) until stopped.

    One scheduler is active per database; start more for fail-over: they stand by.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(process)d] %(levelname)s "
                        "%(name)s: %(message)s")
    run_scheduler(current_app._get_current_object(), poll_seconds=standby_poll)


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


@audit_group.command("grant")
@click.argument("role")
@with_appcontext
def grant_command(role: str) -> None:
    """Grant a PostgreSQL ROLE what the application needs, with the adjustment log
    append-only (read and insert). Run it as the schema's owner after each upgrade, and
    let the application connect as ROLE."""
    try:
        with db.engine.begin() as conn:
            grant_application_role(conn, role)
    except RoleError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"granted {role}: every table, the adjustment log read and append only")


@click.command("adjust")
@click.argument("customer_code")
@click.option("--by", "username", required=True, help="Staff member making the change.")
@click.option("--reason", required=True, help="Why (kept in the adjustment log).")
@click.option("--community", help="Move the customer (all its lines) to this community.")
@click.option("--attribute", type=click.Choice([a.value for a in ClassifiedAttribute
                                                if a is not ClassifiedAttribute.COMMUNITY]),
              help="Pin this customer attribute ...")
@click.option("--value", help="... to this value.")
@click.option("--expires", type=click.DateTime(["%Y-%m-%d"]),
              help="Release the pin on this day (default: never).")
@with_appcontext
def adjust_command(customer_code: str, username: str, reason: str, community: str | None,
                   attribute: str | None, value: str | None, expires: datetime | None) -> None:
    """Move a customer to a community, or pin one of its attributes, as a staff member."""
    if (community is None) == (attribute is None) or (attribute is None) != (value is None):
        raise click.UsageError("give either --community, or --attribute with --value")
    staff = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    if staff is None:
        raise click.ClickException(f"no staff member {username!r}")
    customer = db.session.scalar(select(Customer).where(Customer.code == customer_code.strip()))
    if customer is None:
        raise click.ClickException(f"no customer {customer_code!r}")
    policy = Policy.from_config(current_app.config)
    expires_at = expires.replace(tzinfo=policy.timezone) if expires else None
    target = ClassifiedAttribute(attribute) if attribute else ClassifiedAttribute.COMMUNITY
    try:
        changed = pin(db.session, staff, customer, target, community or value or "", reason,
                      datetime.now(UTC), policy, expires_at)
    except AdjustmentRefusedError as refusal:
        raise click.ClickException(f"refused: {refusal}") from None
    click.echo(f"{customer.code}: {target} pinned to {community or value} "
               f"({changed} value(s) changed)")
