"""Forms of the newsletter pages: they check shape; the services check the rules."""

from wtforms import SelectChoice, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from placeevents.events.forms import LOCAL_FORMATS, LocalDateTimeField
from placeevents.forms import Form
from placeevents.ids import row_id
from placeevents.news.services import BODY_LENGTH, SUBJECT_LENGTH, NewsInput
from placeevents.newsletter.services import INTERESTS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class NewsletterForm(Form):
    """Subject, text and audience of a newsletter."""

    subject = StringField(
        "Subject", validators=[InputRequired(message="Give the newsletter a subject."),
                               Length(max=SUBJECT_LENGTH)]
    )
    body = TextAreaField("Text", validators=[Optional(), Length(max=BODY_LENGTH)])
    interests = MultiCheckboxField(
        "Send to subscribers who chose",
        choices=[SelectChoice(key, label) for key, label in INTERESTS.items()],
        default=["news"],
        validators=[Optional()],
    )
    event_ids = MultiCheckboxField(
        "Only people who came to", coerce=row_id, validators=[Optional()]
    )

    def news_input(self) -> NewsInput:
        return NewsInput(
            subject=self.subject.data or "",
            body=self.body.data or "",
            interests=tuple(self.interests.data or ()),
            event_ids=tuple(self.event_ids.data or ()),
        )


class ScheduleForm(Form):
    """When to send, in the enquiry's time zone."""

    send_at = LocalDateTimeField(
        "Send at", format=LOCAL_FORMATS,
        validators=[InputRequired(message="Enter the date and time to send it.")],
    )


class ActionForm(Form):
    """A button that acts (send, cancel, delete, new digest): only the CSRF token."""
