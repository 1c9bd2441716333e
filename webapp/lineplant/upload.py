"""A bulk change of mappings from an uploaded CSV or XLSX: two columns, the box code (or
the segment's start) and the new community code; a header line is allowed. The file is
read by :func:`webapp.feeds.code_list.read_table` (UTF-8 or GBK, the first sheet only),
so its refusals (encoding, NUL bytes, broken quoting, unreadable workbook) are the same
as every other uploaded list's."""

from flask_babel import gettext as _

from webapp.feeds.code_list import CodeListError, read_table
from webapp.lineplant.changes import Requested

#: First cells of a header line, lower-cased (the operator's exports name them so).
HEADERS = frozenset({"code", "box", "box_code", "junction_box", "junction_box_code",
                     "range_start", "segment", "segment_start", "交接箱", "交接箱号",
                     "交接箱编码", "起始号码", "号码段"})


def read_changes(filename: str, data: bytes
                 ) -> tuple[list[Requested], list[tuple[int, str]], list[str]]:
    """The requested changes of a file, the lines that are not changes (line, why), and
    notes on how it was read. Raises :class:`webapp.feeds.code_list.CodeListError` for a
    file that cannot be read at all, empty included."""
    rows, notes = read_table(filename, data, 2)
    requested: list[Requested] = []
    problems: list[tuple[int, str]] = []
    for number, cells in rows:
        if cells is None:
            continue  # a blank line
        key, community = (cell.strip() for cell in cells)
        if not requested and not problems and key.lower() in HEADERS:
            continue
        if not community:
            problems.append((number, _("the second column (the new community) is empty")))
            continue
        requested.append(Requested(number, key, community))
    if not requested and not problems:
        raise CodeListError(_("the file holds no change"))
    return requested, problems, notes
