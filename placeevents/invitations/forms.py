"""Forms of the invitations domain: they check shape; the services check the rules."""

import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

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
from placeevents.invitations.audiences import AudienceCount
from placeevents.invitations.sending import parse_pasted
from placeevents.public_forms import SessionlessForm


def choices(*pairs: tuple[str, str]) -> list[SelectChoice]:
    """Choices for a radio or select field, in the form WTForms expects."""
    return [SelectChoice(value, label) for value, label in pairs]


MODE_CHOICES = choices(("in_person", "In person"), ("online", "Online"))


def needs_answered(form: "RsvpForm | RequestPlaceForm | RequestPlacesForm") -> dict[str, str]:
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
    website = StringField("Leave this empty", render_kw={"autocomplete": "off", "tabindex": "-1"})

    def validate_mode(self, field: RadioField) -> None:
        # Asked before the address is looked up, so the answer is the same whoever it is.
        if field.flags.required and self.chosen_mode is None:
            raise ValidationError(MODE_NEEDED)

    @property
    def robot(self) -> bool:
        """Whether the honeypot was filled in."""
        return any((value or "").strip() for value in self.website.raw_data or ())


ANSWER_CHOICES = choices(("", "Leave as it is"), ("yes", "Yes"), ("maybe", "Maybe"), ("no", "No"))
_ANSWER_FIELD = re.compile(r"answer_(\d+)")


class OtherAnswersForm(SessionlessForm):
    """Answers to several of one person's invitations at once: `answer_<id>` and, for a hybrid
    event, `mode_<id>` per invitation (see other_answers_form)."""

    invitation_ids: tuple[int, ...] = ()
    hybrid_ids: frozenset[int] = frozenset()

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        valid = super().validate(extra_validators)
        for invitation_id in self.hybrid_ids:
            answer, mode = self[f"answer_{invitation_id}"], self[f"mode_{invitation_id}"]
            if answer.data == "yes" and mode.data not in {c.value for c in MODE_CHOICES}:
                mode.errors = [*mode.errors, MODE_NEEDED]
                valid = False
        return valid

    def chosen(self) -> dict[int, tuple[str, str | None]]:
        """Invitation id → (answer, mode or None), for the invitations given an answer."""
        found = {}
        for invitation_id in self.invitation_ids:
            answer = self[f"answer_{invitation_id}"].data
            if answer:
                hybrid = invitation_id in self.hybrid_ids
                mode = self[f"mode_{invitation_id}"].data if hybrid else None
                known = mode in {c.value for c in MODE_CHOICES}
                found[invitation_id] = (answer, mode if known else None)
        return found

    def strays(self, formdata: Mapping[str, str]) -> bool:
        """Whether answers were sent for invitations the form did not offer."""
        for key, value in formdata.items():
            match = _ANSWER_FIELD.fullmatch(key)
            if value and match and int(match.group(1)) not in self.invitation_ids:
                return True
        return False


F = TypeVar("F", bound=SessionlessForm)


def _mode_field(title: str) -> RadioField:
    """A hybrid event's "in person or online" question, naming the event."""
    return RadioField(
        f"How will you take part in {title}?", choices=MODE_CHOICES, validate_choice=False
    )


def _bound(base: type[F], fields: dict[str, Any], hybrid: frozenset[int]) -> F:
    """An instance of `base` with a mode question per hybrid event, each marked as needed."""
    form = type(f"Bound{base.__name__}", (base,), fields)()
    for key in hybrid:
        form[f"mode_{key}"].flags.required = True
    return form


def other_answers_form(invitations: Sequence[Any]) -> OtherAnswersForm:
    """The form answering these invitations (each with its `event`) at once."""
    hybrid = frozenset(i.id for i in invitations if i.event.format == "hybrid")
    fields: dict[str, Any] = {
        "invitation_ids": tuple(i.id for i in invitations),
        "hybrid_ids": hybrid,
    }
    for invitation in invitations:
        fields[f"answer_{invitation.id}"] = RadioField(
            "Your answer", choices=ANSWER_CHOICES, default=""
        )
        if invitation.id in hybrid:
            fields[f"mode_{invitation.id}"] = _mode_field(invitation.event.title)
    return _bound(OtherAnswersForm, fields, hybrid)


class RequestPlacesForm(SessionlessForm):
    """Registration for several open events of an enquiry in one form: who you are, the events
    (`events`), how you take part in each hybrid one (`mode_<id>`), the events' questions."""

    name = RequestPlaceForm.name
    email = RequestPlaceForm.email
    website = RequestPlaceForm.website
    events = SelectMultipleField(
        "The events you would like to come to",
        coerce=row_id,
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired("Choose at least one event.")],
    )
    access_needs = AnswerDetailsForm.access_needs
    dietary_needs = AnswerDetailsForm.dietary_needs
    question = AnswerDetailsForm.question
    hybrid_ids: frozenset[int] = frozenset()

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        valid = super().validate(extra_validators)
        for event_id in self.hybrid_ids:
            if event_id in (self.events.data or ()) and self.mode_for(event_id) is None:
                field = self[f"mode_{event_id}"]
                field.errors = [*field.errors, MODE_NEEDED]
                valid = False
        return valid

    def mode_for(self, event_id: int) -> str | None:
        """The mode chosen for a hybrid event, if it is one of the choices."""
        if event_id not in self.hybrid_ids:
            return None
        mode = self[f"mode_{event_id}"].data
        return mode if mode in {c.value for c in MODE_CHOICES} else None

    @property
    def robot(self) -> bool:
        """Whether the honeypot was filled in."""
        return any((value or "").strip() for value in self.website.raw_data or ())


def request_places_form(events: Sequence[Any]) -> RequestPlacesForm:
    """The registration form for these open events (each with an id, title and format)."""
    hybrid = frozenset(e.id for e in events if e.format == "hybrid")
    fields: dict[str, Any] = {"hybrid_ids": hybrid}
    for event in events:
        if event.id in hybrid:
            fields[f"mode_{event.id}"] = _mode_field(event.title)
    form = _bound(RequestPlacesForm, fields, hybrid)
    form.events.choices = [SelectChoice(e.id, e.title) for e in events]
    return form


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
    # The page lists the enquiry's earlier events (set_past_events); the service refuses others.
    past_events = SelectMultipleField(
        "People from earlier events of this enquiry",
        coerce=row_id,
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    past_presence = RadioField(
        "From those events, invite",
        choices=choices(("came", "Those who came"), ("place", "Everyone who had a place")),
        default="came",
    )
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
            and not self.past_events.data
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
    # The page lists the audiences the event offers now, with their counts (set_audiences);
    # the service refuses any other.
    audience = RadioField(
        "Send to",
        choices=[],
        validate_choice=False,
        validators=[InputRequired("Choose whom to write to.")],
    )
    subject = StringField("Subject", validators=[DataRequired(), Length(max=250)])
    body = TextAreaField("Message", validators=[DataRequired(), Length(max=10_000)])

    def set_audiences(self, counted: "list[AudienceCount]") -> None:
        """Offer these audiences, each labelled with how many people it reaches now."""
        self.audience.choices = [
            SelectChoice(c.key, f"{c.label[0].upper()}{c.label[1:]} ({c.count})") for c in counted
        ]


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
