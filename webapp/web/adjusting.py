"""What the customer page and the division review share: the forms of manual changes,
the window's state and refusals in the reader's language."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from flask import current_app, flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from engine.domain import ClassifiedAttribute
from webapp.clock import now
from webapp.database import db
from webapp.pipeline.adjust import (
    MAX_REASON,
    AdjustmentRefusedError,
    OutsideScopeError,
    OutsideWindowError,
    Policy,
)
from webapp.web.wording import in_reader_language

CUSTOMER_ATTRIBUTES = [attribute.value for attribute in ClassifiedAttribute]


def policy() -> Policy:
    return Policy.from_config(current_app.config)


@dataclass(frozen=True)
class WindowState:
    open: bool
    #: The last day of the open window, or the day it opens next.
    day: date


def window_state() -> WindowState:
    """Whether manual changes are allowed today, and until / from when."""
    rules = policy()
    today = now().astimezone(rules.timezone).date()
    window = rules.window
    if not window.contains(today):
        return WindowState(False, window.next_opening(today))
    return WindowState(True, window.last_day(today))


def refusal_text(error: AdjustmentRefusedError) -> str:
    """The refusal in the reader's language where the product words it itself."""
    if isinstance(error, OutsideWindowError):
        return _("Refused: outside the adjustment window (from day %(opens)s of a month to "
                 "day %(closes)s of the next). It opens again on %(day)s.",
                 opens=error.window.opens, closes=error.window.closes, day=error.opens_on)
    if isinstance(error, OutsideScopeError):
        return _("Refused: %(code)s is outside your org scope.", code=error.code)
    return _("Refused: %(reason)s", reason=in_reader_language(error.args[0]))


def refused(error: AdjustmentRefusedError) -> None:
    db.session.rollback()
    flash(refusal_text(error), "danger")


def end_of_day(day: date | None) -> datetime | None:
    """An expiry date as the end of that day in the operator's time zone."""
    if day is None:
        return None
    return datetime.combine(day, time(23, 59, 59), policy().timezone).astimezone(UTC)


class PinForm(FlaskForm):
    attribute = SelectField(_l("Attribute"), choices=CUSTOMER_ATTRIBUTES)
    value = StringField(_l("Value"), validators=[DataRequired(), Length(max=64)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=MAX_REASON)])
    expires = DateField(_l("Expires on (optional)"), validators=[Optional()])


class UnpinForm(FlaskForm):
    attribute = HiddenField(validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=MAX_REASON)])


class MoveForm(FlaskForm):
    community = SelectField(_l("Move to community"), validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=MAX_REASON)])


class UploadForm(MoveForm):
    file = FileField(_l("Customer codes (CSV or XLSX, first column)"),
                     validators=[FileRequired()])


def form_problems(form: Any) -> None:
    """Flash each invalid field of ``form`` with its label."""
    for name, messages in form.errors.items():
        label = getattr(form, name).label.text if hasattr(form, name) else name
        for message in messages:
            flash(f"{label}: {message}", "danger")
