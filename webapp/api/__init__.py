"""The JSON API under ``/api/v1``: what other systems (CRM, call centre, outbound-call
system) read and send.

Built with flask-smorest: marshmallow schemas validate every input at the edge and
describe every output, and the same schemas make the OpenAPI document
(``/api/v1/openapi.json``) and the interactive docs (``/api/v1/docs``, Swagger UI served
from the package). Callers authenticate with API tokens (:mod:`webapp.api.tokens`),
never with the web session; :mod:`webapp.api.access` checks each request, deny by
default. Errors are JSON (:mod:`webapp.api.errors`).
"""

from typing import Any

import flask
import flask_smorest
from flask import Flask, render_template, url_for

from webapp.api.access import BLUEPRINTS, check_api_access, documentation
from webapp.api.errors import json_under_api
from webapp.web.access import checks_own_access
from webapp.web.extensions import csrf

PREFIX = "/api/v1"
#: The docs and the document (any valid token, or a person signed in to the web UI).
DOCS_BLUEPRINT = "api-docs"
#: ``app.extensions`` key of the app's :class:`ProductApi`.
API = "custclass.api"
#: Largest request body accepted, unless the configuration says otherwise.
MAX_BODY_BYTES = 2 * 1024 * 1024


class ProductApi(flask_smorest.Api):
    """flask-smorest's ``Api`` with JSON errors only under ``/api/`` (the web UI keeps its
    error pages) and docs served from the package."""

    def _register_error_handlers(self) -> None:
        json_under_api(self._app)

    def _register_doc_blueprint(self) -> None:
        blueprint = flask.Blueprint(DOCS_BLUEPRINT, __name__, url_prefix=PREFIX)
        spec = self.spec

        @documentation
        def document() -> Any:
            return flask.jsonify(spec.to_dict())

        blueprint.add_url_rule("/openapi.json", "openapi_json", document)
        blueprint.add_url_rule("/docs", "docs", documentation(_docs))
        self._app.register_blueprint(blueprint)


def _docs() -> str:
    return render_template("api/docs.html", spec_url=url_for(f"{DOCS_BLUEPRINT}.openapi_json"))


def init_api(app: Flask) -> None:
    """Attach the API to ``app`` (after the web UI: its error pages are kept elsewhere)."""
    from webapp.api.alerts import blueprint as alerts
    from webapp.api.audit import blueprint as audit
    from webapp.api.customers import blueprint as customers
    from webapp.api.runs import blueprint as runs
    from webapp.api.subscribers import blueprint as subscribers
    from webapp.api.targets import blueprint as targets
    from webapp.api.whatif import blueprint as whatif

    app.config.setdefault("API_TITLE", "custclass: customer classification API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("API_MAX_BODY_BYTES", MAX_BODY_BYTES)
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "Send `Authorization: Bearer <token>` with every call; an "
                                "administrator issues tokens (web UI *API tokens*, or "
                                "`custclass tokens create`). A token acts as its staff "
                                "account: that role's permissions and org scope apply."},
        "security": [{"bearerAuth": []}],
    })
    api = ProductApi(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    app.extensions[API] = api
    app.extensions[BLUEPRINTS] = {DOCS_BLUEPRINT}
    checks_own_access(app, DOCS_BLUEPRINT)
    for blueprint in (customers, subscribers, alerts, targets, audit, whatif, runs):
        register(app, blueprint)
    app.before_request(check_api_access)


def register(app: Flask, blueprint: flask_smorest.Blueprint) -> None:
    """Serve ``blueprint`` as part of the API: documented, checked by
    :func:`~webapp.api.access.check_api_access` instead of the web's sign-in, and exempt
    from CSRF (token authentication: no session, nothing to forge)."""
    app.extensions[API].register_blueprint(blueprint)
    app.extensions[BLUEPRINTS].add(blueprint.name)
    checks_own_access(app, blueprint.name)
    csrf.exempt(blueprint)
