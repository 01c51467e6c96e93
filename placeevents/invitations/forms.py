"""Forms of the invitations domain: they check shape; the services check the rules."""

from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Email, InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from placeevents.forms import Form
from placeevents.ids import row_id
from placeevents.invitations.sending import parse_pasted
from placeevents.public_forms import SessionlessForm


def choices(*pairs: tuple[str, str]) -> list[SelectChoice]:
    """Choices for a radio or select field, in the form WTForms expects."""
    return [SelectChoice(value, label) for value, label in pairs]


MODE_CHOICES = choices(("in_person", "In person"), ("online", "Online"))


def needs_answered(form: "RsvpForm | RequestPlaceForm") -> dict[str, str]:
    """The event's questions as answered on an RSVP or registration form ("" when blank)."""
    return {
        "access_needs": form.access_needs.data or "",
        "dietary_needs": form.dietary_needs.data or "",
        "question": form.question.data or "",
    }


class ButtonForm(Form):
    """A form that is only a button (and its CSRF token)."""


class LinkButtonForm(SessionlessForm):
    """A button on a page reached by a personal link, which is the proof: no CSRF token."""


MODE_NEEDED = "Choose whether you will come in person or join online."


class AnswerDetailsForm(SessionlessForm):
    """What a yes tells us besides itself: how a hybrid event's guest takes part, and the
    event's questions (each page shows those the event asks)."""

    mode = RadioField("How will you take part?", choices=MODE_CHOICES, validate_choice=False)
    access_needs = TextAreaField(
        "Any access needs we should plan for?", validators=[Length(max=2000)]
    )
    dietary_needs = TextAreaField("Any dietary needs?", validators=[Length(max=2000)])
    question = TextAreaField(
        "The question you bring to this exploration", validators=[Length(max=2000)]
    )

    def mark_mode_needed(self) -> None:
        """Show the mode question as required (it is, with a yes, for a hybrid event)."""
        self.mode.flags.required = True

    @property
    def chosen_mode(self) -> str | None:
        """The mode chosen, if it is one of the choices."""
        return self.mode.data if self.mode.data in {c.value for c in MODE_CHOICES} else None


class RsvpForm(AnswerDetailsForm):
    answer = HiddenField(
        "Answer",
        validators=[
            InputRequired(),
            AnyOf(
                ["yes", "yes_in_person", "yes_online", "maybe", "no", "no_notes"],
                "Choose an answer.",
            ),
        ],
    )
    # "y" once the person has agreed to give their place to the next person waiting.
    give_up_place = HiddenField("Give up my place")


class RequestPlaceForm(AnswerDetailsForm):
    """Registration in one form: who you are, how you take part, the event's questions."""

    name = StringField(
        "Your name",
        validators=[DataRequired("Enter your name."), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        "Your email address",
        validators=[DataRequired(), Length(max=254), Email("Enter a valid email address.")],
        render_kw={"autocomplete": "email"},
    )
    # A honeypot: hidden from people, who leave it empty; a form robot fills it in.
    website = StringField(
        "Leave this empty", render_kw={"autocomplete": "off", "tabindex": "-1"}
    )

    def validate_mode(self, field: RadioField) -> None:
        # Asked before the address is looked up, so the answer is the same whoever it is.
        if field.flags.required and self.chosen_mode is None:
            raise ValidationError(MODE_NEEDED)

    @property
    def robot(self) -> bool:
        """Whether the honeypot was filled in."""
        return any((value or "").strip() for value in self.website.raw_data or ())


class FreshLinkForm(SessionlessForm):
    email = EmailField(
        "Your email address",
        validators=[DataRequired(), Length(max=254), Email("Enter a valid email address.")],
    )


class InviteForm(Form):
    subscribers = RadioField(
        "Subscribers",
        choices=choices(
            ("none", "None"),
            ("interest", "Confirmed subscribers interested in this format"),
            ("all", "All confirmed subscribers"),
        ),
        default="none",
    )
    past_attendees = BooleanField("People who attended earlier events of this enquiry")
    pasted = TextAreaField(
        "Other addresses", validators=[Length(max=200_000)], render_kw={"rows": 6}
    )
    subject = StringField("Subject", validators=[DataRequired(), Length(max=250)])
    body = TextAreaField("Text", validators=[DataRequired(), Length(max=10_000)])
    # "y" once the organiser has seen how many would be invited and pressed send again.
    confirmed = HiddenField()

    def validate_pasted(self, field: TextAreaField) -> None:
        self.pasted_addresses, errors = parse_pasted(field.data or "")
        if errors:
            raise ValidationError(" ".join(errors[:20]) + (" …" if len(errors) > 20 else ""))

    def validate_subscribers(self, field: RadioField) -> None:
        if (
            field.data == "none"
            and not self.past_attendees.data
            and not (self.pasted.data or "").strip()
        ):
            raise ValidationError("Choose at least one group of people, or paste addresses.")


class OrganiserAnswerForm(Form):
    answer = RadioField(
        "Answer",
        choices=choices(("yes", "Coming"), ("maybe", "Maybe"), ("no", "Not coming")),
        validators=[InputRequired("Choose an answer.")],
    )
    mode = RadioField("Taking part", choices=MODE_CHOICES, validate_choice=False)
    overbook = BooleanField("If places are full, overbook rather than waitlist")
    notify = BooleanField("Mail them the confirmation", default=True)


class MessageForm(Form):
    audience = RadioField(
        "Send to",
        choices=choices(
            ("confirmed", "The confirmed"),
            ("waitlisted", "The waiting list"),
            ("everyone", "Everyone invited"),
        ),
        validators=[InputRequired("Choose whom to write to.")],
    )
    subject = StringField("Subject", validators=[DataRequired(), Length(max=250)])
    body = TextAreaField("Message", validators=[DataRequired(), Length(max=10_000)])


class RemindForm(Form):
    invitations = SelectMultipleField(
        "People to remind",
        coerce=row_id,
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired("Choose at least one person to remind.")],
    )
