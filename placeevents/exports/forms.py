"""Forms of the exports pages: who and which columns go on a list, the check-in search."""

from wtforms import SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from placeevents.exports.rows import COLUMNS, DEFAULT_COLUMNS, DEFAULT_WHO, WHO
from placeevents.forms import Form


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as checkboxes, one query parameter per ticked box."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AttendeeListForm(Form):
    """Who goes on an attendee list and which columns it has (posted: each download is audited)."""

    who = CheckboxesField(
        "Who", choices=[SelectChoice(k, v) for k, v in WHO.items()], default=list(DEFAULT_WHO)
    )
    columns = CheckboxesField(
        "Columns",
        choices=[SelectChoice(k, v) for k, v in COLUMNS.items()],
        default=list(DEFAULT_COLUMNS),
    )

    def validate_who(self, field: CheckboxesField) -> None:
        if not field.data:
            raise ValidationError("Choose at least one group of people.")

    def validate_columns(self, field: CheckboxesField) -> None:
        if not field.data:
            raise ValidationError("Choose at least one column.")


class DownloadForm(Form):
    """A download button: only the CSRF token (each download is audited)."""


class CheckInSearchForm(Form):
    """Search the check-in list by name, email or organisation."""

    class Meta:
        csrf = False

    q = StringField("Find someone", validators=[Length(max=200)])
