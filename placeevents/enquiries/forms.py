"""Organiser forms for an enquiry and its lines of enquiry."""

from functools import cache
from zoneinfo import available_timezones

from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from placeevents.forms import Form


@cache
def _timezone_choices() -> list[SelectChoice]:
    names = sorted(n for n in available_timezones() if "/" in n and not n.startswith("Etc/"))
    return [SelectChoice("UTC", "UTC"), *(SelectChoice(n, n.replace("_", " ")) for n in names)]


class EnquiryForm(Form):
    title = StringField(
        "Title", validators=[DataRequired(message="Give the enquiry a title."), Length(max=200)]
    )
    summary = StringField("Summary", validators=[Optional(), Length(max=300)])
    introduction = TextAreaField("Introduction", validators=[Optional(), Length(max=20_000)])
    timezone = SelectField(
        "Time zone",
        default="Europe/London",
        validators=[DataRequired(message="Choose the time zone.")],
        validate_choice=False,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = _timezone_choices()

    def values(self) -> dict[str, str]:
        """The fields as keyword arguments for create_enquiry / update_enquiry."""
        return {
            name: self[name].data or "" for name in ("title", "summary", "introduction", "timezone")
        }


class QuestionForm(Form):
    title = StringField(
        "Line of enquiry",
        validators=[DataRequired(message="Give the line of enquiry a title."), Length(max=200)],
    )
    body = TextAreaField("What it asks", validators=[Optional(), Length(max=5_000)])
