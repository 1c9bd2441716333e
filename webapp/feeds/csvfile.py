"""Streaming a feed file: encoding checks, the header, and records with line numbers.

The file is read incrementally; only the record being processed is in memory.
"""

import codecs
import contextlib
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

#: Encodings an operator may name, and the codec used to read them. GBK files are read
#: as GB18030, its superset, so that a few rarer characters do not fail a whole file.
ENCODINGS = {"utf-8": "utf-8-sig", "gbk": "gb18030", "gb18030": "gb18030"}
SNIFF_BYTES = 1 << 20
#: Largest single cell accepted by the CSV parser; larger ones are reported per line.
FIELD_LIMIT = 64 * 1024
csv.field_size_limit(FIELD_LIMIT)


class FeedFileError(Exception):
    """The file as a whole cannot be imported; nothing is stored."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


@dataclass(frozen=True)
class Record:
    """One CSV record: the physical line it starts on, and its cells."""

    line: int
    cells: list[str]


def check_encoding(path: Path, encoding: str) -> str:
    """Return the codec for ``encoding`` after checking the file's start agrees with it."""
    if encoding not in ENCODINGS:
        raise FeedFileError(f"unknown encoding {encoding!r}: use one of {', '.join(ENCODINGS)}")
    with path.open("rb") as handle:
        sample = handle.read(SNIFF_BYTES)
    if not sample.strip():
        raise FeedFileError("the file is empty: expected a header line and rows")
    if b"\x00" in sample:
        raise FeedFileError("the file contains NUL bytes: it is not a CSV text file")
    codec = ENCODINGS[encoding]
    if codec == "utf-8-sig":
        _decode_or_explain(sample, "utf-8", "UTF-8", other="gb18030")
    elif not sample.isascii() and _decodes(sample, "utf-8"):
        raise FeedFileError(
            f"the file is UTF-8, not {encoding.upper()}: reading it as {encoding.upper()} "
            "would garble every Chinese character; rerun with --encoding utf-8"
        )
    else:
        _decode_or_explain(sample, "gb18030", encoding.upper(), other="utf-8")
    return codec


def _decodes(sample: bytes, codec: str) -> bool:
    try:
        codecs.getincrementaldecoder(codec)().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _decode_or_explain(sample: bytes, codec: str, name: str, *, other: str) -> None:
    """Raise a ``FeedFileError`` naming the first bad line, and ``other`` if it fits."""
    try:
        codecs.getincrementaldecoder(codec)().decode(sample, final=False)
    except UnicodeDecodeError as exc:
        line = sample.count(b"\n", 0, exc.start) + 1
        hint = (
            f"; it looks like {other.upper()} (billing exports often are): "
            f"rerun with --encoding {other}"
            if _decodes(sample, other)
            else ""
        )
        raise FeedFileError(f"the file is not valid {name}{hint}", line) from None


def read_records(handle: BinaryIO, codec: str) -> Iterator[Record]:
    """Yield the records of an open binary file, decoding as ``codec``.

    Broken quoting, a cell over ``FIELD_LIMIT`` or undecodable bytes raise
    ``FeedFileError``: past such a point the parser cannot tell where records start,
    so nothing after it could be trusted.
    """
    text = io.TextIOWrapper(handle, encoding=codec, errors="strict", newline="")
    try:
        yield from _records(csv.reader(text, strict=True))
    except UnicodeDecodeError:
        raise FeedFileError(
            f"bytes that are not valid {codec.removesuffix('-sig').upper()}: "
            "the file mixes encodings or is damaged",
            _undecodable_line(handle, codec),
        ) from None
    finally:
        # The caller owns ``handle``: let go of it instead of closing it.
        with contextlib.suppress(ValueError):
            text.detach()


def _records(reader: Any) -> Iterator[Record]:
    previous_end = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise FeedFileError(
                f"unreadable CSV ({exc}): check the quoting of this record", previous_end + 1
            ) from None
        start, previous_end = previous_end + 1, reader.line_num
        if cells:
            yield Record(start, cells)


def _undecodable_line(handle: BinaryIO, codec: str) -> int:
    """The first physical line that does not decode (the text layer reads ahead).

    Decoding line by line is exact here: in UTF-8 and GB18030 no byte of a multi-byte
    character is a newline.
    """
    handle.seek(0)
    number = 0
    for number, raw in enumerate(handle, start=1):
        try:
            raw.decode(codec)
        except UnicodeDecodeError:
            return number
    return number


def read_header(records: Iterator[Record], expected: list[str],
                aliases: dict[str, str]) -> list[str]:
    """Check the first record is a header naming every column once; return the names.

    Every column must be present (a missing optional column would otherwise erase stored
    values); its cells may be empty. Columns may be named by an alias (e.g. ``业务接入号``
    for ``service_number``).
    """
    first = next(records, None)
    if first is None:
        raise FeedFileError("the file is empty", 1)
    header = [aliases.get(name, name) for name in (cell.strip().lower() for cell in first.cells)]
    missing = [column for column in expected if column not in header]
    unknown = [column for column in header if column not in expected]
    if missing and not set(header) & set(expected) and any(c[:1].isdigit() for c in header):
        raise FeedFileError("the first line looks like data, not a header; the header must "
                            f"name the columns {', '.join(expected)}", first.line)
    problems = []
    if unknown:
        shown = ", ".join(repr(column[:40]) for column in unknown[:10])
        problems.append(f"header has unknown column(s) {shown}")
    if missing:
        problems.append(f"header lacks column(s): {', '.join(missing)} (they may be empty, "
                        "but must be there)")
    if problems:
        raise FeedFileError(f"{'; '.join(problems)}; expected {', '.join(expected)}",
                            first.line)
    duplicated = sorted({column for column in header if header.count(column) > 1})
    if duplicated:
        raise FeedFileError(f"header names column(s) twice: {', '.join(duplicated)}", first.line)
    return header
