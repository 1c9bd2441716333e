"""Feed import: CSV files from billing and analysis systems into the database."""

from webapp.feeds.definitions import FEEDS
from webapp.feeds.importer import ImportResult, RowError, import_file

__all__ = ["FEEDS", "ImportResult", "RowError", "import_file"]
