"""A report's table: what its page shows, its chart reads and its export writes — one
structure for the three, so the file holds exactly the numbers on the page."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from webapp.web.exports import Cell


def yuan(cents: int | None) -> Decimal | None:
    """Cents as yuan with two decimals."""
    return None if cents is None else (Decimal(cents) / 100).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Column:
    title: str
    #: A number (right-aligned); with ``series``, a series of the chart (its key).
    numeric: bool = False
    series: str | None = None


@dataclass
class Row:
    cells: list[Cell]
    #: Query arguments of the row's drill-down (None: none).
    drill: dict[str, str] | None = None


@dataclass
class ReportTable:
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)
    #: The column whose text labels a row in the chart (a ``<th scope="row">``).
    label: int = 0
    #: ``stacked-bar``, ``doughnut`` or None (no chart).
    chart: str | None = "stacked-bar"
    #: Totals under the rows (not part of the export's rows), or None.
    footer: list[Cell] | None = None

    @property
    def header(self) -> list[str]:
        return [column.title for column in self.columns]

    def cells(self) -> list[Sequence[Cell]]:
        """The rows as an export writes them."""
        return [row.cells for row in self.rows]
