"""Showing a service's :class:`~webapp.wording.Worded` message in the reader's language."""

from typing import Any

from flask import Flask
from flask_babel import gettext

from webapp.wording import Worded


def in_reader_language(value: Any) -> Any:
    """``value`` translated when a service worded it with ``say``; else unchanged."""
    if isinstance(value, Worded):
        return gettext(value.template, **value.params) if value.params \
            else gettext(value.template)
    return value


def init_wording(app: Flask) -> None:
    """Every ``{{ value }}`` a page prints goes through :func:`in_reader_language`; inside
    a translated sentence, a parameter takes the filter: ``why=why|reader_language``."""
    app.jinja_env.finalize = in_reader_language
    app.jinja_env.filters["reader_language"] = in_reader_language
