"""The customer classification service as a Flask application.

``create_app`` wires configuration and extensions; the work itself lives in plain
modules (``webapp.feeds``, ``webapp.demo``, ...) that the CLI and views call.
"""

import os
from typing import Any

from flask import Flask
from flask_migrate import Migrate

from webapp.config import load_config
from webapp.database import db

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")

migrate = Migrate(directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)


def create_app(config: dict[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the application; ``config`` overrides settings (tests use it).

    The instance folder (SQLite database, demo files, development secret) is
    ``instance_path``, else ``$CUSTCLASS_INSTANCE``, else ``instance/`` beside the code.
    """
    app = Flask(__name__, instance_relative_config=True,
                instance_path=instance_path or os.environ.get("CUSTCLASS_INSTANCE") or None)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(load_config(app.instance_path, config))

    # Order matters: models must be registered on the metadata before Migrate looks at it.
    from webapp import models  # noqa: F401

    db.init_app(app)
    migrate.init_app(app, db)

    from webapp.api import init_api
    from webapp.cli import register_commands
    from webapp.web import init_web

    register_commands(app)
    init_web(app)
    init_api(app)  # after the web UI: the API keeps the web's error pages off /api/
    return app
