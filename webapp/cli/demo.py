"""``custclass demo`` and ``custclass demo-data``: the demo province."""

import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import flask_migrate
from flask import current_app
from flask.cli import with_appcontext
from tqdm import tqdm

from engine.domain import RunKind
from webapp.classification.distribution import distributions
from webapp.cli.imports import run_import
from webapp.cli.pipeline import describe_run
from webapp.cli.users import ensure_demo_accounts
from webapp.database import db
from webapp.demo import generate
from webapp.demo.summary import describe
from webapp.feeds import FEEDS
from webapp.pipeline.runs import reclassify
from webapp.reports.refresh import refresh_now
from webapp.rulesets.files import read_document, ruleset_files
from webapp.rulesets.store import DEFAULT_RULES, publish

_subscribers = click.option("--subscribers", "-n", default=50_000, show_default=True,
                            type=click.IntRange(1, 20_000_000), help="Number of subscriber lines.")
_seed = click.option("--seed", default=1, show_default=True, help="Random seed.")
_as_of = click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
                      help="Day the data describes (default: today).")


def _generate(out: Path, subscribers: int, seed: int, as_of: date) -> list[tuple[str, Path]]:
    with tqdm(total=subscribers, unit=" lines", desc="generating",
              disable=not sys.stderr.isatty(), leave=False) as bar:
        return generate(out, subscribers, seed, as_of,
                        on_progress=lambda done: bar.update(done - bar.n))


@click.command("demo-data")
@_subscribers
@_seed
@_as_of
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Folder to write the feed files into.")
def demo_data_command(subscribers: int, seed: int, as_of: datetime | None, out: Path) -> None:
    """Write the demo province as feed files.

    The files depend only on the seed and the as-of date.
    """
    files = _generate(out, subscribers, seed, as_of.date() if as_of else date.today())
    for feed, path in files:
        click.echo(f"{feed:<16} {path}")


@click.command("demo")
@_subscribers
@_seed
@_as_of
@with_appcontext
def demo_command(subscribers: int, seed: int, as_of: datetime | None) -> None:
    """Create the database and import the demo province."""
    day = as_of.date() if as_of else date.today()
    flask_migrate.upgrade()
    out = Path(current_app.instance_path) / f"demo-{subscribers}-{seed}-{day:%Y%m%d}"
    manifest = out / "manifest.json"
    if manifest.exists():
        files = [(feed, Path(path)) for feed, path in json.loads(manifest.read_text())]
        click.echo(f"reusing the demo files in {out}")
    else:
        files = _generate(out, subscribers, seed, day)
        manifest.write_text(json.dumps([(feed, str(path)) for feed, path in files]))
        click.echo(f"generated {len(files)} feed files in {out}")
    failed = [path for feed, path in files
              if run_import(FEEDS[feed], path, "strict", "utf-8").status == "failed"]
    click.echo("")
    with db.engine.connect() as conn:
        for line in describe(conn):
            click.echo(line)
    if failed:
        raise click.ClickException(f"{len(failed)} demo file(s) failed to import")
    _classify_demo(day)
    click.echo(f"database: {db.engine.url.render_as_string(hide_password=True)}")
    accounts = ensure_demo_accounts()
    if accounts:
        click.echo("demo accounts of the web UI:")
        for line in accounts:
            click.echo(line)


def _classify_demo(day: date) -> None:
    """Publish the default rulesets and classify the province with them."""
    documents = {path.name: read_document(path) for path in ruleset_files(DEFAULT_RULES)}
    for name, version, new in publish(db.session, documents, datetime.now(UTC)):
        click.echo(f"ruleset {name} v{version}{' published' if new else ''}")
    db.session.commit()
    click.echo(describe_run(reclassify(db.session, RunKind.FULL, day,
                                       processes=current_app.config["RUN_PROCESSES"])))
    parts = refresh_now(db.session, day, ZoneInfo(current_app.config["TIMEZONE"]))
    click.echo(f"report summaries refreshed: {', '.join(parts or ['none'])}")
    with db.engine.connect() as conn:
        for line in distributions(conn):
            click.echo(line)
