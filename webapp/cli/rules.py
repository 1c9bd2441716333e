"""``custclass rules ...``: rulesets from the command line."""

from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from engine.catalog import DEFAULT_CATALOG
from engine.testcases import run_tests
from engine.validation import Report, validate_documents
from webapp.classification.explain import explain_line
from webapp.database import db
from webapp.models import Subscriber
from webapp.rulesets.files import RuleFileError, read_document, ruleset_files
from webapp.rulesets.store import DEFAULT_RULES, InvalidRulesetsError, publish

_directory = click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False,
                                                                exists=True),
                          default=DEFAULT_RULES, show_default=True,
                          help="Folder of ruleset files.")
as_of_option = click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
                      help="Evaluation date (default: today).")


@click.group("rules")
def rules_group() -> None:
    """Validate, test, publish and explain the classification rules."""


def _read_all(files: Iterable[Path], directory: Path) -> tuple[dict[str, dict], list[str]]:
    """Documents of ``files`` plus the other files of ``directory`` (their dependencies)."""
    documents, unreadable = {}, []
    wanted = {path.resolve() for path in files}
    for path in sorted(wanted | {p.resolve() for p in ruleset_files(directory)}):
        try:
            documents[str(path)] = read_document(path)
        except RuleFileError as error:
            if path in wanted:
                unreadable.append(str(error))
    return documents, unreadable


def _reports(files: tuple[Path, ...], directory: Path
             ) -> tuple[list[Report], list[str], dict[str, str]]:
    """Reports of ``files`` (all of ``directory`` if none), unreadable files, and the
    output of every ruleset found (for dependencies)."""
    targets = files or tuple(ruleset_files(directory))
    documents, unreadable = _read_all(targets, directory)
    wanted = {str(path.resolve()) for path in targets}
    every = validate_documents(documents, DEFAULT_CATALOG)
    outputs = {report.ruleset.name: report.ruleset.output for report in every
               if report.ruleset is not None}
    return [report for report in every if report.source in wanted], unreadable, outputs


@rules_group.command("validate")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--all", "all_files", is_flag=True, help="Every ruleset file of --dir.")
@_directory
def validate_command(files: tuple[Path, ...], all_files: bool, directory: Path) -> None:
    """Check ruleset files: every problem with its path, and warnings.

    Exits 1 when a file has a problem.
    """
    if not files and not all_files:
        raise click.UsageError("name ruleset files, or --all")
    reports, unreadable, _ = _reports(() if all_files else files, directory)
    for message in unreadable:
        click.echo(f"error: {message}", err=True)
    for report in reports:
        name = Path(report.source).name
        for problem in report.errors:
            click.echo(f"{name}: error: {problem}", err=True)
        for problem in report.warnings:
            click.echo(f"{name}: warning: {problem}", err=True)
        if report.ok:
            assert report.ruleset is not None
            click.echo(f"{name}: ok ({report.ruleset.name}, {len(report.ruleset.rules)} rules, "
                       f"{len(report.ruleset.tests)} tests)")
    if unreadable or any(not report.ok for report in reports):
        raise SystemExit(1)


@rules_group.command("test")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@_directory
@click.option("--verbose", "-v", is_flag=True, help="List passing tests too.")
def test_command(files: tuple[Path, ...], directory: Path, verbose: bool) -> None:
    """Run the test cases of ruleset files (all of --dir by default). Exits 1 on a failure."""
    reports, unreadable, outputs = _reports(files, directory)
    failed = len(unreadable)
    for message in unreadable:
        click.echo(f"error: {message}", err=True)
    for report in reports:
        if not report.ok or report.ruleset is None:
            click.echo(f"{Path(report.source).name}: invalid, run `custclass rules validate`",
                       err=True)
            failed += 1
            continue
        outcomes = run_tests(report.ruleset, outputs)
        for outcome in outcomes:
            if not outcome.passed:
                failed += 1
                click.echo(f"FAIL {outcome.ruleset}: {outcome.name}: expected "
                           f"{outcome.expected!r}, got {outcome.actual!r} ({outcome.detail})")
            elif verbose:
                click.echo(f"ok   {outcome.ruleset}: {outcome.name}")
        passed = sum(outcome.passed for outcome in outcomes)
        click.echo(f"{report.ruleset.name}: {passed}/{len(outcomes)} passed")
    if failed:
        raise SystemExit(1)


@rules_group.command("publish")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@_directory
@with_appcontext
def publish_command(files: tuple[Path, ...], directory: Path) -> None:
    """Publish ruleset files (all of --dir by default) as new versions where they changed."""
    targets = files or tuple(ruleset_files(directory))
    try:
        documents = {path.name: read_document(path) for path in targets}
        published = publish(db.session, documents, datetime.now(UTC))
    except (RuleFileError, InvalidRulesetsError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    for name, version, new in published:
        click.echo(f"{name}: v{version} {'published' if new else 'unchanged'}")


@rules_group.command("explain")
@click.argument("service_number")
@as_of_option
@with_appcontext
def explain_command(service_number: str, as_of: datetime | None) -> None:
    """Which rule decides each attribute of a line and its customer, with the facts read."""
    subscriber = db.session.scalar(select(Subscriber).where(
        Subscriber.service_number == service_number.strip()))
    if subscriber is None:
        raise click.ClickException(f"no subscriber with service number {service_number!r}")
    for line in explain_line(db.session, subscriber, as_of.date() if as_of else date.today()):
        click.echo(line)
