"""Errors under ``/api/`` are JSON; everywhere else the web UI's pages stay.

Shape (flask-smorest's): ``{"code": 400, "status": "Bad Request", "message": "...",
"errors": {"json": {"records": {"0": {"status": ["..."]}}}}}`` — ``errors`` names each
bad field by where it was sent (``json``, ``query``) and its path.
"""

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import HTTPException

#: Where the API's errors are JSON.
API_PATHS = "/api/"

Handler = Callable[[Any], Any]


def json_error(error: HTTPException) -> tuple[dict[str, Any], int, dict[str, str]]:
    """flask-smorest's payload, with the error's description as the message when the
    code that raised it gave none (a 404 of routing, a 413 of the body size, ...)."""
    payload: dict[str, Any] = {"code": error.code, "status": error.name}
    headers: dict[str, str] = {}
    data = getattr(error, "data", None) or {}
    errors = data.get("errors", data.get("messages"))
    if errors:
        payload["errors"] = errors
    payload["message"] = data.get("message") or (
        "bad input: each bad field is named under errors" if errors else error.description)
    headers.update(data.get("headers") or {})
    if error.code == 405 and error.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    return payload, error.code or 500, headers


def json_under_api(app: Flask) -> None:
    """Make every HTTP error under :data:`API_PATHS` JSON: the handlers registered so far
    (the web's error pages, by status code) keep serving the other paths."""
    for code, by_class in list(app.error_handler_spec[None].items()):
        if code is None:
            continue
        for exc_class, handler in list(by_class.items()):
            app.register_error_handler(exc_class, partial(_api_or, handler))
    app.register_error_handler(HTTPException, partial(_api_or, None))


def _api_or(fallback: Handler | None, error: Any) -> Any:
    if request.path.startswith(API_PATHS) and isinstance(error, HTTPException):
        return json_error(error)
    return error if fallback is None else fallback(error)
