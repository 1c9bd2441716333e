"""Messages that services word in English and the web UI shows in the reader's language.

Services (the pipeline, the feeds, the admin services) do not use the web's translations:
the command line and the API answer in English. They word a message with :func:`say`,
which gives the English text as a ``str`` that also keeps its template and parameters,
so the web UI can translate it (``webapp.web.wording``; pages do so for every such value
they print). ``say`` is a Babel extraction keyword: its templates are in the catalog.
"""

from collections.abc import Mapping
from typing import Any


class Worded(str):
    """English text that remembers how it was made (template % parameters)."""

    template: str
    params: Mapping[str, Any]

    def __new__(cls, template: str, params: Mapping[str, Any]) -> "Worded":
        text = super().__new__(cls, template % params if params else template)
        text.template = template
        text.params = params
        return text


def say(template: str, **params: Any) -> Worded:
    """``template % params`` in English; a literal template, ``%(name)s`` placeholders."""
    return Worded(template, params)
