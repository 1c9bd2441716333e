"""``custclass reports refresh``: the reports' stale summaries now, not at the
scheduler's next *reports* job (after an upgrade, say, or a run started by hand)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.cli.rules import as_of_option
from webapp.clock import today
from webapp.database import db
from webapp.reports.refresh import refresh_now


@click.group("reports")
def reports_group() -> None:
    """The fixed reports' summary tables."""


@reports_group.command("refresh")
@as_of_option
@with_appcontext
def refresh_command(as_of: datetime | None) -> None:
    """Refresh the stale summaries (after any run in progress)."""
    parts = refresh_now(db.session, as_of.date() if as_of else today(),
                        ZoneInfo(current_app.config["TIMEZONE"]))
    click.echo(f"refreshed: {', '.join(parts) if parts else 'nothing was stale'}")
