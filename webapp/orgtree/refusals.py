"""Refusals of the admin services, worded for the reader.

Services run without a request (command line, tests), so they word a refusal in English
(:class:`webapp.wording.Worded`, which keeps the template and its values) and a page
shows it in the reader's language (``webapp.web.wording.in_reader_language``). The
templates are marked with :func:`N_`, one of Babel's default extraction keywords.
"""

from typing import Any

from webapp.wording import Worded


def N_(text: str) -> str:  # noqa: N802 - the gettext convention Babel extracts
    """Mark ``text`` for translation without translating it here."""
    return text


class Refusal(ValueError):  # noqa: N818 - a refusal, not a fault
    """A change refused before anything was written; ``field`` names the input at fault
    (None: the thing as a whole)."""

    def __init__(self, field: str | None, template: str, **params: Any) -> None:
        self.message = Worded(template, params)
        super().__init__(self.message)
        self.field = field
