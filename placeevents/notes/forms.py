"""Forms of the notes pages: they check shape; the services check the rules."""

from wtforms import (
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from placeevents.forms import Form, IdField
from placeevents.ids import row_id
from placeevents.notes.models import NoteKind, NoteVisibility

VISIBILITY_CHOICES = [
    SelectChoice(NoteVisibility.PRIVATE.value, "Private to organisers"),
    SelectChoice(
        NoteVisibility.ATTENDEES.value, "Shared with the event's attendees (and those who asked)"
    ),
    SelectChoice(NoteVisibility.PUBLIC.value, "Public: on the event page and the learning page"),
]

ATTRIBUTION_CHOICES = [
    SelectChoice("attributed", "Attributed: show the author's name"),
    SelectChoice(
        "unattributed", "Unattributed (Chatham House): never name the author outside these pages"
    ),
]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class NoteForm(Form):
    title = StringField("Title", validators=[InputRequired(), Length(max=200)])
    kind = SelectField(
        "Kind",
        choices=[SelectChoice(k.value, k.label) for k in NoteKind],
        validators=[InputRequired()],
    )
    author_name = StringField("Author", validators=[Optional(), Length(max=200)])
    attribution = RadioField(
        "Attribution",
        choices=ATTRIBUTION_CHOICES,
        default="attributed",
        validators=[InputRequired(message="Choose whether the note names its author.")],
    )
    visibility = RadioField(
        "Who can read it",
        choices=VISIBILITY_CHOICES,
        default=NoteVisibility.PRIVATE.value,
        validators=[InputRequired(message="Choose who can read the note.")],
    )
    body = TextAreaField("Notes", validators=[Optional(), Length(max=60_000)])
    resources = TextAreaField("Resource links", validators=[Optional(), Length(max=20_000)])
    questions = MultiCheckboxField("Lines of enquiry", coerce=row_id, validators=[Optional()])
    tags = StringField("Tags", validators=[Optional(), Length(max=500)])
    base_revision = HiddenField()


class ActionForm(Form):
    """A button that acts (restore, delete): only the CSRF token."""


class ShareForm(Form):
    note_id = IdField(validators=[Optional()])
    # Whom to send to (services.SHARE_AUDIENCES), as chosen on the page; everyone by default.
    audience = HiddenField()
