"""Alert message templates: text with ``{fact}`` placeholders and nothing else.

No format specs, attribute access or indexing (``str.format`` would allow them), so a
template typed into the rule editor can only quote facts.
"""

import re
from collections.abc import Callable

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_MESSAGE_LENGTH = 500


def placeholders(template: str) -> list[str]:
    """Names quoted by a template, in order (invalid ones included, for the validator)."""
    return [name.strip() for name in _PLACEHOLDER.findall(template)]


def template_problems(template: str) -> list[str]:
    problems = []
    if len(template) > MAX_MESSAGE_LENGTH:
        problems.append(f"message longer than {MAX_MESSAGE_LENGTH} characters")
    for name in placeholders(template):
        if not _NAME.match(name):
            problems.append(f"{{{name}}} is not a fact name (write {{fact_name}})")
    stray = _PLACEHOLDER.sub("", template)
    if "{" in stray or "}" in stray:
        problems.append("unbalanced { or } (placeholders are written {fact_name})")
    return problems


def render(template: str, value_of: Callable[[str], str]) -> str:
    """The message with each placeholder replaced by ``value_of(name)``."""
    return _PLACEHOLDER.sub(lambda match: value_of(match.group(1).strip()), template)
