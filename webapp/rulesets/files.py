"""Reading ruleset documents from YAML (or JSON) files, refusing what could hurt."""

import json
from datetime import date
from pathlib import Path
from typing import Any

import yaml

#: A ruleset file larger than this is refused before parsing.
MAX_FILE_BYTES = 1_000_000
#: Files in ``rules/`` that are data, not rulesets.
NOT_RULESETS = frozenset({"service_tiers.yaml"})


class RuleFileError(ValueError):
    """A file that is not a readable ruleset document; the message names the place."""


def read_document(path: Path) -> dict[str, Any]:
    """The document in ``path`` as JSON-compatible data (dates become ISO text)."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise RuleFileError(f"{path}: {error.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise RuleFileError(f"{path}: {size:,} bytes; a ruleset file has at most "
                            f"{MAX_FILE_BYTES:,}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise RuleFileError(f"{path} line {line}: not UTF-8 text") from None
    return parse_document(text, str(path))


def load_yaml(text: str, name: str) -> Any:
    """YAML data of ``text`` (aliases refused: they can blow up in memory), or a
    :class:`RuleFileError` naming ``name`` with the line and column."""
    try:
        if any(isinstance(token, yaml.AliasToken) for token in yaml.scan(text)):
            raise RuleFileError(f"{name}: YAML aliases (*name) are not allowed in rulesets")
        return yaml.safe_load(text)
    except RecursionError:
        raise RuleFileError(f"{name}: nested too deeply") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise RuleFileError(f"{name}{where}: {problem}") from None


def parse_document(text: str, name: str) -> dict[str, Any]:
    document = load_yaml(text, name)
    if not isinstance(document, dict):
        raise RuleFileError(f"{name}: expected a ruleset (a mapping with name, title, "
                            "rules...)")
    try:
        return json.loads(json.dumps(document, default=_jsonable, ensure_ascii=False))
    except (TypeError, ValueError) as error:
        raise RuleFileError(f"{name}: {error}") from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"unsupported value {value!r}")


def ruleset_files(directory: Path) -> list[Path]:
    return sorted(path for path in directory.glob("*.y*ml") if path.name not in NOT_RULESETS)
