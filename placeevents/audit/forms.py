"""The audit log's filter form."""

from wtforms import IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from placeevents.forms import Form


class AuditFilterForm(Form):
    """Which action to show and which page (read from the query string)."""

    class Meta:
        csrf = False

    # Choices are the actions recorded so far; an unknown one simply matches nothing.
    action = SelectField(
        "Action", choices=[SelectChoice("", "All actions")], default="", validate_choice=False
    )
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1)], default=1)
