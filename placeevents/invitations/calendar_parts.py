"""Each invited person's calendar entry, and the iMIP REQUEST and CANCEL parts of their mail.

Every mail to a person carries a SEQUENCE above every one mailed to them before
(``max(event.sequence, rsvp.calendar_sequence + 1)``), recorded on their RSVP by
`attendance.claim_calendar_sequence` before a part is built, so a calendar never takes a newer
message for an older one: not even a yes after a cancellation.
"""


from placeevents.calendar import ics
from placeevents.calendar.services import CalendarError, organizer
from placeevents.clock import utcnow
from placeevents.events.models import EventFormat
from placeevents.invitations.models import AttendanceMode, Invitation, Rsvp, RsvpAnswer
from placeevents.urls import base_url


class NotConfirmed(CalendarError):
    """Only a confirmed attendee has a personal calendar entry."""


def _confirmed_rsvp(invitation: Invitation) -> Rsvp:
    rsvp = invitation.rsvp
    if rsvp is None or rsvp.answer != RsvpAnswer.YES:
        raise NotConfirmed("Only people with a confirmed place have this event in their calendar.")
    return rsvp


def takes_part_online(invitation: Invitation) -> bool:
    """Whether this person joins online: every attendee of an online event, or by choice."""
    event = invitation.event
    if event.format == EventFormat.ONLINE:
        return True
    mode = invitation.rsvp.mode if invitation.rsvp is not None else None
    return event.format == EventFormat.HYBRID and mode == AttendanceMode.ONLINE


def place_of(invitation: Invitation) -> ics.Place:
    """The person as a calendar attendee, in the room or online with the join link."""
    online = takes_part_online(invitation)
    return ics.Place(
        attendee=ics.Person(email=invitation.email, name=invitation.name),
        online=online,
        join_url=invitation.event.join_url if online else "",
    )


def calendar_was_sent(invitation: Invitation) -> bool:
    """Whether this person has ever been mailed a calendar entry for the event."""
    return invitation.rsvp is not None and invitation.rsvp.calendar_sequence > 0


def personal_ics_for(invitation: Invitation) -> bytes:
    """A confirmed attendee's own .ics (with the join link when they take part online)."""
    rsvp = _confirmed_rsvp(invitation)
    event = invitation.event
    place = place_of(invitation)
    return ics.personal_ics(
        event,
        attendee_email=place.attendee.email,
        attendee_name=place.attendee.name,
        online=place.online,
        join_url=place.join_url,
        base_url=base_url(),
        organizer=organizer(event, sending=False),
        sequence=max(event.sequence, rsvp.calendar_sequence),
    )


def calendar_part_for_confirmation(invitation: Invitation, *, sequence: int) -> bytes:
    """The METHOD:REQUEST part for a yes confirmation mail, carrying the claimed SEQUENCE."""
    _confirmed_rsvp(invitation)
    part = ics.imip_request(
        invitation.event,
        organizer=organizer(invitation.event),
        place=place_of(invitation),
        sequence=sequence,
        dtstamp=utcnow(),
        base_url=base_url(),
    )
    return part


def _declined_note(answer: RsvpAnswer) -> str:
    if answer == RsvpAnswer.MAYBE:
        return (
            "You changed your answer to maybe, which holds no place, so your place is released "
            "and this event is removed from your calendar."
        )
    return "You told us you can't come, so this event is removed from your calendar."


def cancel_part_for_declined(invitation: Invitation, *, sequence: int) -> bytes:
    """The METHOD:CANCEL part for someone who said maybe or no, at the claimed SEQUENCE."""
    if invitation.rsvp is None:
        raise NotConfirmed("This person has not answered, so there is nothing to cancel.")
    part = ics.imip_cancel(
        invitation.event,
        organizer=organizer(invitation.event),
        place=place_of(invitation),
        sequence=sequence,
        dtstamp=utcnow(),
        base_url=base_url(),
        declined=True,
        note=_declined_note(invitation.rsvp.answer),
    )
    return part
