"""Forms of the rule editor (CSRF-protected by Flask-WTF; fields checked on the server)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange
from wtforms.widgets import HiddenInput


class RevisionForm(FlaskForm):
    """Carries the draft revision the page was made from (refuses stale saves)."""

    revision = IntegerField(widget=HiddenInput(),
                            validators=[InputRequired(), NumberRange(min=0, max=2**31 - 1)])


class CommentForm(RevisionForm):
    comment = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=2000)])


class ImportForm(FlaskForm):
    file = FileField(_l("Ruleset file (YAML)"), validators=[FileRequired()])


class TestCasesForm(RevisionForm):
    #: Set by the "run" button: run the saved cases without saving the form.
    action = HiddenField()
