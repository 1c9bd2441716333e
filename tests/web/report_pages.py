"""Reading a report page back: its tables (header, rows, drill-down links) as text, and
numbers compared without their thousands separators."""

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class ShownTable:
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    #: The drill-down link of each row (None: none).
    drills: list[str | None] = field(default_factory=list)

    def by_key(self, key: int = 0) -> dict[str, list[str]]:
        """The rows by the text of their column ``key``."""
        return {row[key]: row for row in self.rows}


class _Reader(HTMLParser):
    def __init__(self, key: str) -> None:
        super().__init__(convert_charrefs=True)
        self.key = key
        self.table = ShownTable()
        self.inside = self.in_head = self.in_body = False
        self.cell: list[str] | None = None
        self.empty_row = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag == "table" and attr.get("data-testid") == f"report-{self.key}":
            self.inside = True
        elif not self.inside:
            return
        elif tag == "thead":
            self.in_head = True
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.empty_row = "empty" in attr.get("class", "")
            if not self.empty_row:
                self.table.rows.append([])
                self.table.drills.append(None)
        elif tag in ("td", "th") and (self.in_head or (self.in_body and not self.empty_row)):
            self.cell = []
        elif tag == "a" and self.in_body and "data-drill" in attr:
            self.table.drills[-1] = attr.get("href")

    def handle_endtag(self, tag: str) -> None:
        if not self.inside:
            return
        if tag in ("td", "th") and self.cell is not None:
            text = " ".join("".join(self.cell).split())
            (self.table.header if self.in_head else self.table.rows[-1]).append(text)
            self.cell = None
        elif tag == "thead":
            self.in_head = False
        elif tag == "tbody":
            self.in_body = False
        elif tag == "table":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def shown_table(html: str, key: str) -> ShownTable:
    """The table ``report-<key>`` of a report page."""
    reader = _Reader(key)
    reader.feed(html)
    return reader.table


def number(text: str) -> int:
    """A whole number as a page shows it (``1,234``)."""
    return int(text.replace(",", ""))


def amount(text: str) -> str:
    """An amount as a page shows it, without separators (``1234.50``)."""
    return text.replace(",", "")
