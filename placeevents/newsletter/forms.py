"""Forms of the mailing list: signup, fresh link, preferences and the organiser's pages."""

from typing import Any

from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    IntegerField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from placeevents.addresses import email_problem
from placeevents.forms import Form
from placeevents.newsletter.models import NAME_LENGTH, ConsentSource, SubscriberStatus
from placeevents.newsletter.services import INTERESTS, Details, Interests
from placeevents.public_forms import SessionlessForm


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class _EmailAddress:
    # Marks the field required (label and attribute) while giving one message for every problem.
    field_flags = {"required": True}

    def __call__(self, form: Form, field: Field) -> None:
        problem = email_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


def _text(label: str, *, required: str | None = None, length: int = NAME_LENGTH) -> StringField:
    presence = [DataRequired(message=required)] if required else [Optional()]
    return StringField(
        label,
        filters=[_strip],
        validators=[
            *presence,
            Length(max=length, message=f"Use at most {length} characters."),
        ],
    )


def _email(label: str = "Email") -> EmailField:
    return EmailField(label, filters=[_strip], validators=[_EmailAddress()])


class DetailsForm(Form):
    """Name, organisation, role and interests, shared by signup and preferences."""

    name = _text("Name", required="Enter your name.")
    organisation = _text("Organisation")
    role = _text("Role")
    wants_in_person = BooleanField(INTERESTS["in_person"])
    wants_online = BooleanField(INTERESTS["online"])
    wants_news = BooleanField(INTERESTS["news"])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.interest_errors: list[str] = []

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        self.interest_errors = []
        if not self.interests().chosen:
            self.interest_errors.append("Choose at least one thing you would like to receive.")
        return valid and not self.interest_errors

    def interests(self) -> Interests:
        return Interests(
            in_person=bool(self.wants_in_person.data),
            online=bool(self.wants_online.data),
            news=bool(self.wants_news.data),
        )

    def details(self) -> Details:
        return Details(
            name=self.name.data or "",
            organisation=self.organisation.data or "",
            role=self.role.data or "",
            interests=self.interests(),
        )


class SignupForm(SessionlessForm, DetailsForm):
    """The signup form shown on the home page and on every event page."""

    email = _email()


class PreferencesForm(SessionlessForm, DetailsForm):
    """A subscriber's own details, changed from the preferences page (its link is the proof)."""

    # Choices are the current enquiries, set by the page: "Invite me to every exploration of …".
    standing_for = SelectMultipleField(
        "Standing invitations",
        coerce=int,
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class InPersonForm(DetailsForm):
    """An organiser adding someone who asked in person."""

    email = _email()
    note = _text("How did they ask?", required="Say how and when they asked.", length=300)
    returning = BooleanField("They asked to come back")


class FreshLinkForm(SessionlessForm):
    """Ask for a new confirmation link."""

    email = _email("Your email address")


class EraseForm(Form):
    """The address of a person to erase."""

    email = _email()


class ActionForm(Form):
    """A button that acts: only the CSRF token."""


class LinkActionForm(SessionlessForm):
    """A button on a page reached by a personal link, which is the proof: no CSRF token."""


class StandingForm(SessionlessForm):
    """The button asking to be invited to every exploration of one enquiry."""

    enquiry_id = IntegerField(
        widget=HiddenInput(), validators=[InputRequired("Choose an enquiry.")]
    )


class ImportForm(Form):
    """An uploaded CSV of an existing list."""

    file = FileField(
        "CSV file",
        validators=[
            FileRequired(message="Choose a CSV file."),
            FileAllowed(["csv", "txt"], message="Upload a .csv file."),
        ],
    )


def _choices(options: list[tuple[str, str]], everyone: str) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in [("", everyone), *options]]


class FilterForm(Form):
    """Search and filters of the organiser's list (read from the query string)."""

    class Meta:
        csrf = False

    q = SearchField(
        "Search",
        filters=[_strip],
        validators=[Optional(), Length(max=200, message="Use at most 200 characters.")],
    )
    status = SelectField(
        "Status",
        choices=_choices([(s.value, s.label) for s in SubscriberStatus], "Any status"),
        default="",
    )
    interest = SelectField(
        "Interest",
        choices=_choices(list(INTERESTS.items()), "Any interest"),
        default="",
    )
    source = SelectField(
        "Source",
        choices=_choices([(s.value, s.label) for s in ConsentSource], "Any source"),
        default="",
    )
