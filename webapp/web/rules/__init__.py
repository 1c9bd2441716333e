"""The analysts' rule editor."""

from webapp.web.rules.views import blueprint

__all__ = ["blueprint"]
