"""The ``custclass`` command: Flask's CLI with the product's commands.

Commands are registered on the app (``register_commands``), so ``custclass`` and the
test CLI runner see the same set.
"""

import click
from flask import Flask
from flask.cli import FlaskGroup

from webapp import create_app


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """Customer classification service for telecom operators.

    Uses SQLite in the instance folder unless DATABASE_URL points at PostgreSQL.
    """


def register_commands(app: Flask) -> None:
    from webapp.cli.demo import demo_command, demo_data_command
    from webapp.cli.imports import import_group
    from webapp.cli.pipeline import (
        adjust_command,
        audit_group,
        reclassify_command,
        runs_command,
        scheduler_command,
    )
    from webapp.cli.reports import reports_group
    from webapp.cli.rules import rules_group
    from webapp.cli.serve import serve_command
    from webapp.cli.tokens import tokens_group
    from webapp.cli.users import users_group

    for command in (import_group, demo_data_command, demo_command, rules_group,
                    reclassify_command, scheduler_command, runs_command, adjust_command,
                    audit_group, users_group, tokens_group, reports_group, serve_command):
        app.cli.add_command(command)
