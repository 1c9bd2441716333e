"""The API's blueprint class: bad input answers 400 (as the web UI's), and every endpoint
declares its permission and documents the refusals that come with it."""

import json
from collections.abc import Callable
from typing import Any, TypeVar

import flask
import flask_smorest
from flask_smorest import abort
from webargs.flaskparser import FlaskParser

from webapp.api.access import requires
from webapp.web.access import Permission

View = TypeVar("View", bound=Callable[..., Any])


class ApiParser(FlaskParser):
    """webargs' parser; a bad field is a 400 with its message, like everywhere else."""

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req: flask.Request) -> Any:
        """The body's JSON; a body Python's parser cannot hold (a number of thousands of
        digits, arrays nested thousands deep) is bad JSON too, not a server error."""
        try:
            return super()._raw_load_json(req)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise  # webargs answers these itself
        except (ValueError, RecursionError):
            abort(400, message="the JSON body cannot be read",
                  errors={"json": ["a number is too long or the nesting too deep"]})


class ApiBlueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ApiParser()

    def guard(self, permission: Permission) -> Callable[[View], View]:
        """:func:`webapp.api.access.requires`, documented: 401 without a live token,
        403 for a role without ``permission``."""
        def decorate(view: View) -> View:
            view = self.alt_response(401, response="UNAUTHORIZED")(view)
            view = self.alt_response(403, response="FORBIDDEN")(view)
            return requires(permission)(view)
        return decorate
