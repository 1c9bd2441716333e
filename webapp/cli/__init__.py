"""The ``custclass`` command: Flask's CLI with the product's commands."""

import click
from flask.cli import FlaskGroup

from webapp import create_app
from webapp.cli.demo import demo_command, demo_data_command
from webapp.cli.imports import import_group


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """Customer classification service for telecom operators.

    Uses SQLite in the instance folder unless DATABASE_URL points at PostgreSQL.
    """


main.add_command(import_group)
main.add_command(demo_data_command)
main.add_command(demo_command)
