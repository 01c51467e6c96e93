"""Organiser forms for events: the shape of what is entered (rules live in the services)."""

from datetime import datetime
from typing import Any

from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from placeevents.enquiries.timezones import to_local
from placeevents.events.models import Event, EventAccess, EventFormat
from placeevents.events.services import (
    EARLIEST_YEAR,
    FORMATS_ONLINE,
    FORMATS_WITH_PLACES,
    LATEST_YEAR,
    EventDetails,
)
from placeevents.forms import Form

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"]


class LocalDateTimeField(DateTimeLocalField):
    """A wall-clock date and time from <input type=datetime-local>; empty means no value."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = " ".join(valuelist).strip()
        self.data = None
        if not text:
            return
        for pattern in self.strptime_format:
            try:
                self.data = datetime.strptime(text, pattern)
                return
            except ValueError:
                continue
        raise ValueError("Enter a date and a time, for example 14/05/2024 10:00.")


def _local_field(label: str, *, required: bool) -> LocalDateTimeField:
    return LocalDateTimeField(
        label,
        format=LOCAL_FORMATS,
        # The browser's picker offers the years the rules accept.
        render_kw={
            "min": f"{EARLIEST_YEAR}-01-01T00:00",
            "max": f"{LATEST_YEAR}-12-31T23:59",
        },
        validators=[InputRequired(message=f"Enter the {label.lower()} date and time.")]
        if required
        else [Optional()],
    )


class EventForm(Form):
    title = StringField(
        "Title", validators=[DataRequired(message="Give the event a title."), Length(max=200)]
    )
    format = RadioField(
        "Format",
        choices=[SelectChoice(f.value, f.label) for f in EventFormat],
        default=EventFormat.IN_PERSON.value,
        validators=[DataRequired(message="Choose the format.")],
    )
    starts_at = _local_field("Start", required=True)
    ends_at = _local_field("End", required=True)
    venue = StringField("Venue", validators=[Optional(), Length(max=200)])
    address = StringField("Address", validators=[Optional(), Length(max=500)])
    join_url = URLField("Join link", validators=[Optional(), Length(max=500)])
    hosts = StringField("Speakers or hosts", validators=[Optional(), Length(max=500)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=20_000)])
    capacity = IntegerField(
        "In-person places",
        # static/js/event_form.js hides the field while a format without places is chosen.
        render_kw={"data-shown-for-format": " ".join(f.value for f in FORMATS_WITH_PLACES)},
        validators=[
            Optional(),
            NumberRange(min=1, max=100_000, message="Enter a number of places from 1 to 100000."),
        ],
    )
    online_capacity = IntegerField(
        "Online places",
        render_kw={"data-shown-for-format": " ".join(f.value for f in FORMATS_ONLINE)},
        validators=[
            Optional(),
            NumberRange(min=1, max=100_000, message="Enter a number of places from 1 to 100000."),
        ],
    )
    rsvp_deadline = _local_field("RSVP deadline", required=False)
    access = RadioField(
        "Who can come",
        choices=[
            SelectChoice(EventAccess.INVITATION.value, "By invitation only"),
            SelectChoice(
                EventAccess.OPEN.value, "Open to registration: anyone may request a place"
            ),
        ],
        default=EventAccess.INVITATION.value,
        validators=[DataRequired(message="Choose who can come.")],
    )
    ask_access_needs = BooleanField("Access needs", default=True)
    ask_dietary_needs = BooleanField("Dietary needs")
    ask_question = BooleanField("The question you bring to this exploration", default=True)

    def details(self) -> EventDetails:
        """The entered values, times still in the enquiry's time zone."""
        return EventDetails(
            title=self.title.data or "",
            format=EventFormat(self.format.data),
            starts_at=self.starts_at.data,
            ends_at=self.ends_at.data,
            description=self.description.data or "",
            venue=self.venue.data or "",
            address=self.address.data or "",
            join_url=self.join_url.data or "",
            hosts=self.hosts.data or "",
            capacity=self.capacity.data,
            online_capacity=self.online_capacity.data,
            rsvp_deadline=self.rsvp_deadline.data,
            access=EventAccess(self.access.data),
            ask_access_needs=self.ask_access_needs.data,
            ask_dietary_needs=self.ask_dietary_needs.data,
            ask_question=self.ask_question.data,
        )

    @staticmethod
    def data_of(event: Event) -> dict[str, Any]:
        """Form values showing an event, its times as wall-clock times in the enquiry's zone."""
        tz = event.enquiry.timezone

        def local(moment: datetime | None) -> datetime | None:
            return to_local(moment, tz).replace(tzinfo=None) if moment else None

        return {
            "title": event.title,
            "format": event.format.value,
            "starts_at": local(event.starts_at),
            "ends_at": local(event.ends_at),
            "venue": event.venue,
            "address": event.address,
            "join_url": event.join_url,
            "hosts": event.hosts,
            "description": event.description,
            "capacity": event.capacity,
            "online_capacity": event.online_capacity,
            "rsvp_deadline": local(event.rsvp_deadline),
            "access": event.access.value,
            "ask_access_needs": event.ask_access_needs,
            "ask_dietary_needs": event.ask_dietary_needs,
            "ask_question": event.ask_question,
        }


class CancelForm(Form):
    message = TextAreaField(
        "Message to the people affected",
        validators=[
            DataRequired(message="Write a message to the people affected."),
            Length(max=5_000),
        ],
    )
