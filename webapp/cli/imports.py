"""``custclass import <feed> FILE``: one sub-command per feed."""

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from webapp.database import db
from webapp.feeds import FEEDS, ImportResult, import_file
from webapp.feeds.csvfile import ENCODINGS
from webapp.feeds.spec import Feed
from webapp.models import ImportRun

#: Exit status of an import: everything stored, nothing stored, good rows stored.
EXIT_OK, EXIT_FAILED, EXIT_PARTIAL = 0, 1, 3


@click.group("import")
def import_group() -> None:
    """Import a feed file (CSV) from billing or the analysis system."""


def run_import(feed: Feed, path: Path, mode: str, encoding: str) -> ImportResult:
    """Import one file and print its outcome; shared by the import and demo commands."""
    result = import_file(
        db.engine, feed, path, mode=mode, encoding=encoding,  # type: ignore[arg-type]
        chunk_rows=current_app.config["IMPORT_CHUNK_ROWS"], progress=sys.stderr.isatty(),
    )
    for error in result.errors:
        click.echo(f"  {path.name}: {error}", err=True)
    if result.rejected > len(result.errors):
        click.echo(f"  ... and more: {result.rejected:,} bad rows in all", err=True)
    if result.reject_file:
        click.echo(f"  rejected rows and reasons: {result.reject_file}", err=True)
    for note in result.notes:
        click.echo(f"  {note}")
    if result.message:
        click.echo(f"  {path.name}: {result.message}", err=True)
    click.echo(result.summary())
    return result


def _feed_command(feed: Feed) -> click.Command:
    @click.command(feed.name, help=f"{feed.title}\n\nColumns: {', '.join(feed.schema.columns())}.",
                   short_help=feed.title)
    @click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
    @click.option("--mode", type=click.Choice(["strict", "skip"]), default="strict",
                  show_default=True,
                  help="strict: any bad row stores nothing. skip: store good rows, write bad "
                       "ones to FILE.rejects.csv.")
    @click.option("--encoding", type=click.Choice(list(ENCODINGS)), default="utf-8",
                  show_default=True, help="Character encoding of the file.")
    @with_appcontext
    def command(file: Path, mode: str, encoding: str) -> None:
        result = run_import(feed, file, mode, encoding)
        status = {"ok": EXIT_OK, "partial": EXIT_PARTIAL}.get(result.status, EXIT_FAILED)
        sys.exit(status)

    return command


for _feed in FEEDS.values():
    import_group.add_command(_feed_command(_feed))


@import_group.command("history")
@click.option("--limit", default=20, show_default=True, help="How many imports to show.")
@with_appcontext
def history_command(limit: int) -> None:
    """List the latest imports with their counts and status."""
    runs = db.session.scalars(
        select(ImportRun).order_by(ImportRun.id.desc()).limit(limit)
    ).all()
    for run in runs:
        click.echo(
            f"{run.id:>6} {run.started_at:%Y-%m-%d %H:%M} {run.feed:<16} {run.status:<8}"
            f" read {run.rows_read:,} ins {run.inserted:,} upd {run.updated:,}"
            f" rej {run.rejected:,}  {Path(run.file_name).name}"
        )
