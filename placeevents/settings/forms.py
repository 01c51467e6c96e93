"""The settings page's form."""

from wtforms import BooleanField, EmailField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange

from placeevents.forms import Form


class SettingsForm(Form):
    organisation_name = StringField(
        "Organisation's name", validators=[DataRequired(), Length(max=200)]
    )
    sender_name = StringField("Sender's name shown in mail", validators=[Length(max=200)])
    sender_email = EmailField("Sender's address", validators=[DataRequired(), Length(max=254)])
    subject_prefix = StringField("Subject prefix", default="", validators=[Length(max=100)])
    privacy_notice = TextAreaField("Privacy notice", validators=[Length(max=20_000)])
    reminder_lead_hours = IntegerField(
        "Reminders go this many hours before an event",
        validators=[DataRequired(), NumberRange(min=1, max=14 * 24)],
    )
    admins_need_two_factor = BooleanField("Admins must use two-factor sign-in")
