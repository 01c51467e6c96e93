"""The mails of the invitations domain: one builder per mail, each returning an EmailMessage."""

from collections.abc import Sequence
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from placeevents.enquiries import timezones
from placeevents.events.models import EventFormat
from placeevents.invitations.calendar_parts import (
    calendar_part_for_confirmation,
    cancel_part_for_declined,
)
from placeevents.invitations.links import rsvp_url, stop_url
from placeevents.invitations.models import AttendanceMode, Invitation, RsvpAnswer
from placeevents.mail.outbox import (
    PreparedMessage,
    address,
    build_message,
    prepare,
    render_email,
)
from placeevents.mail.personalise import MessageTemplate, placeholder_tokens
from placeevents.newsletter.links import MailExtras, list_mail_extras
from placeevents.urls import external_url

if TYPE_CHECKING:
    from placeevents.events.models import Event


def place_words(event: "Event") -> str:
    """The venue and address in words ("" when neither is given)."""
    return ", ".join(part for part in (event.venue, event.address) if part)


def where(event: "Event") -> str:
    """Where the event happens, in words: the venue, "Online", or both."""
    place = place_words(event)
    if event.format == EventFormat.ONLINE:
        return "Online"
    if event.format == EventFormat.HYBRID:
        return f"{place}, or online" if place else "Online, or in person"
    return place


def _event_context(event: "Event") -> dict[str, Any]:
    return {
        "event": event,
        "when": timezones.format_range(event.starts_at, event.ends_at, event.enquiry.timezone),
        "where": where(event),
        "event_url": external_url("events.show", slug=event.slug),
    }


def _join_url(invitation: Invitation) -> str:
    rsvp = invitation.rsvp
    if (
        rsvp is not None
        and rsvp.answer == RsvpAnswer.YES
        and rsvp.mode == AttendanceMode.ONLINE
        and invitation.event.is_online
    ):
        return invitation.event.join_url
    return ""


def where_for(invitation: Invitation) -> str:
    """Where this person goes: a hybrid event's yes says in person or online, not both."""
    event, rsvp = invitation.event, invitation.rsvp
    if event.format != EventFormat.HYBRID or rsvp is None or rsvp.answer != RsvpAnswer.YES:
        return where(event)
    if rsvp.mode == AttendanceMode.ONLINE:
        return "Online"
    return place_words(event) or "In person"


def _context(invitation: Invitation) -> dict[str, Any]:
    return {
        **_event_context(invitation.event),
        "where": where_for(invitation),
        "invitation": invitation,
        "rsvp": invitation.rsvp,
        "person_name": invitation.name,
        "rsvp_url": rsvp_url(invitation),
        "join_url": _join_url(invitation),
    }


def _to(invitation: Invitation) -> Any:
    return address(invitation.email, invitation.name)


def _message(
    name: str,
    invitation: Invitation,
    *,
    calendar: bytes | None = None,
    calendar_method: str | None = None,
    extras: MailExtras | None = None,
    one_click_stop: bool = False,
    **extra: Any,
) -> EmailMessage:
    # Whoever the invitation came from, a confirmed subscriber gets the list's headers and links;
    # bulk sends look everyone up at once and pass `extras` in.
    headers, footer_links = extras if extras is not None else list_mail_extras(invitation.email)
    if one_click_stop and "List-Unsubscribe" not in headers:
        headers = {**headers, **stop_headers(invitation)}
    mail = render_email(name, **_context(invitation), footer_links=footer_links, **extra)
    return build_message(
        to=_to(invitation),
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        headers=headers,
        calendar=calendar,
        calendar_method=calendar_method,
    )


def stop_headers(invitation: Invitation) -> dict[str, str]:
    """One-click "stop sending me invitations" (RFC 8058) for someone who is not a subscriber.

    Bulk mail must offer every recipient a one-click way out; for a subscriber it is the list's
    unsubscribe, for anyone else the do-not-invite page, whose POST needs nothing but the link.
    """
    return {
        "List-Unsubscribe": f"<{stop_url(invitation)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def build_invitation(
    invitation: Invitation, *, subject: str, body: str, extras: MailExtras | None = None
) -> EmailMessage:
    """The invitation itself: the organiser's words, the event, the RSVP and opt-out links.

    A confirmed subscriber's invitation carries the mailing list's headers and footer links,
    however the address was chosen; anyone else gets neither.
    """
    return _message(
        "invitation",
        invitation,
        subject=subject,
        body=body,
        stop_url=stop_url(invitation),
        extras=extras,
        one_click_stop=True,
    )


class InvitationBatch:
    """The invitations of one bulk send: rendered once per shape of message (with or without a
    name, with the list's links or not), then personalised per person in the bytes.

    Each message matches build_invitation's for that person but for its Message-ID and Date;
    one that cannot be personalised (an address needing UTF-8 headers) is built as usual.
    """

    def __init__(self, event: "Event", *, subject: str, body: str) -> None:
        self.event = event
        self.subject = subject
        self.body = body
        self._templates: dict[tuple[Any, ...], tuple[MessageTemplate, dict[str, str]]] = {}

    def message_for(self, invitation: Invitation, *, extras: MailExtras) -> PreparedMessage:
        """The invitation for one person, ready for the outbox; `extras` as list_mail_extras."""
        headers, footer_links = extras
        if "List-Unsubscribe" not in headers:
            headers = {**headers, **stop_headers(invitation)}
        stop = stop_url(invitation)
        urls = {"stop": stop, **{f"link{n}": url for n, (_, url) in enumerate(footer_links)}}
        # A header naming one of the links is personalised; any other is part of the shape.
        by_url = {f"<{url}>": name for name, url in urls.items()}
        shape_headers = tuple((k, by_url.get(v, v), v in by_url) for k, v in headers.items())
        key = (bool(invitation.name), shape_headers, tuple(label for label, _ in footer_links))
        if key not in self._templates:
            self._templates[key] = self._template(
                named=bool(invitation.name),
                headers=shape_headers,
                labels=[label for label, _ in footer_links],
            )
        template, tokens = self._templates[key]
        values = {tokens["rsvp"]: rsvp_url(invitation), tokens["name"]: invitation.name}
        values.update({tokens[name]: url for name, url in urls.items()})
        prepared = None
        if template.usable and invitation.rsvp is None:
            prepared = template.personalise(to=_to(invitation), values=values)
        if prepared is None:
            message = build_invitation(
                invitation, subject=self.subject, body=self.body, extras=extras
            )
            prepared = prepare(message, bulk=True)
        return prepared

    def _template(
        self, *, named: bool, headers: tuple[tuple[str, str, bool], ...], labels: list[str]
    ) -> tuple[MessageTemplate, dict[str, str]]:
        names = ["to", "name", "rsvp", "stop", *(f"link{n}" for n in range(len(labels)))]
        tokens = placeholder_tokens(*names)
        context = _event_context(self.event)
        mail = render_email(
            "invitation",
            **context,
            invitation=None,
            rsvp=None,
            person_name=tokens["name"] if named else "",
            rsvp_url=tokens["rsvp"],
            join_url="",
            subject=self.subject,
            body=self.body,
            stop_url=tokens["stop"],
            footer_links=[(label, tokens[f"link{n}"]) for n, label in enumerate(labels)],
        )
        to_placeholder = f"{tokens['to']}@placeholder.invalid"
        message = build_message(
            to=address(to_placeholder),
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            headers={k: f"<{tokens[v]}>" if linked else v for k, v, linked in headers},
        )
        used = {t for n, t in tokens.items() if n != "to" and (named or n != "name")}
        template = MessageTemplate(
            message,
            to_placeholder=to_placeholder,
            placeholders={n: tokens[n] for n in tokens if tokens[n] in used},
            bulk=True,
        )
        return template, tokens


def build_invitation_test(
    event: "Event", *, subject: str, body: str, to_email: str, to_name: str
) -> EmailMessage:
    """A test of an invitation sent to the organiser; its links open the public event page."""
    return _organiser_test(
        "invitation",
        event,
        subject=subject,
        body=body,
        to_email=to_email,
        to_name=to_name,
        stop_url=external_url("events.show", slug=event.slug),
    )


def _organiser_test(
    template: str,
    event: "Event",
    *,
    subject: str,
    body: str,
    to_email: str,
    to_name: str,
    **extra: Any,
) -> EmailMessage:
    # The organiser's own copy: personal links are replaced by the public event page.
    context = _event_context(event)
    mail = render_email(
        template,
        **context,
        invitation=None,
        rsvp=None,
        person_name=to_name,
        rsvp_url=context["event_url"],
        join_url="",
        subject=subject,
        body=body,
        footer_links=[],
        test=True,
        **extra,
    )
    return build_message(
        to=address(to_email, to_name),
        subject=f"[Test] {mail.subject}",
        text=mail.text,
        html=mail.html,
    )


def build_rsvp_confirmation(
    invitation: Invitation, *, sequence: int, promoted: bool = False
) -> EmailMessage:
    """The mail confirming a yes (or a promotion from the waiting list) to the person coming.

    It carries the calendar invitation (iMIP METHOD:REQUEST) at the SEQUENCE claimed for it.
    """
    return _message(
        "rsvp_confirmation",
        invitation,
        promoted=promoted,
        calendar=calendar_part_for_confirmation(invitation, sequence=sequence),
        calendar_method="REQUEST",
    )


def build_rsvp_answer(invitation: Invitation, *, cancel_sequence: int | None) -> EmailMessage:
    """The acknowledgement of a maybe or a no; with a claimed SEQUENCE it also takes back the
    calendar entry sent before."""
    if cancel_sequence is not None:
        return _message(
            "rsvp_answer",
            invitation,
            calendar=cancel_part_for_declined(invitation, sequence=cancel_sequence),
            calendar_method="CANCEL",
            calendar_removed=True,
        )
    return _message("rsvp_answer", invitation)


# A mode as an adjective: "all in-person places".
KIND = {AttendanceMode.IN_PERSON: "in-person", AttendanceMode.ONLINE: "online"}


def _line(invitation: Invitation, *, lapsed: bool = False) -> dict[str, str]:
    """Which waiting list the person is (or was) on, and the place they keep meanwhile."""
    rsvp = invitation.rsvp
    assert rsvp is not None
    keeping = rsvp.answer == RsvpAnswer.YES and (rsvp.waiting_for is not None or lapsed)
    mode = rsvp.waiting_for if keeping and rsvp.waiting_for else rsvp.mode
    return {
        "line": KIND[mode] if mode is not None else "",
        "keeps": rsvp.mode.label if keeping and rsvp.mode is not None else "",
    }


def build_waitlist_joined(invitation: Invitation, *, position: int) -> EmailMessage:
    """Telling someone their yes put them on a waiting list, which one, and where."""
    return _message("waitlist_joined", invitation, position=position, **_line(invitation))


def build_waitlist_offer(invitation: Invitation) -> EmailMessage:
    """Offering a freed place close to the start, to accept with a button before it lapses."""
    rsvp = invitation.rsvp
    assert rsvp is not None and rsvp.offer_expires_at is not None
    expires = timezones.format_datetime(rsvp.offer_expires_at, invitation.event.enquiry.timezone)
    return _message("waitlist_offer", invitation, expires=expires, **_line(invitation))


def build_waitlist_lapsed(invitation: Invitation) -> EmailMessage:
    """Telling someone an offered place passed on because it was not accepted in time."""
    return _message("waitlist_lapsed", invitation, **_line(invitation, lapsed=True))


def build_answer_reminder(
    invitation: Invitation, *, extras: MailExtras | None = None
) -> EmailMessage:
    """A nudge to someone who has not answered their invitation."""
    return _message(
        "reminder_answer",
        invitation,
        extras=extras,
        one_click_stop=True,
        stop_url=stop_url(invitation),
    )


def build_event_reminder(
    invitation: Invitation, *, extras: MailExtras | None = None
) -> EmailMessage:
    """The reminder before the event to a confirmed attendee (with the join link if online)."""
    # Sent in bulk, so it offers the one-click way out that every bulk mail does.
    return _message(
        "reminder_event",
        invitation,
        extras=extras,
        one_click_stop=True,
        stop_url=stop_url(invitation),
    )


def build_change_notice(
    invitation: Invitation, *, note: str, extras: MailExtras | None = None
) -> EmailMessage:
    """A short notice that the event changed, for someone without a confirmed place."""
    return _message(
        "event_changed",
        invitation,
        note=note,
        extras=extras,
        one_click_stop=True,
        stop_url=stop_url(invitation),
    )


def build_request_place(invitation: Invitation) -> EmailMessage:
    """The answer to "Request a place": the link to the person's own RSVP page."""
    return _message("request_place", invitation)


def build_fresh_links(email: str, invitations: Sequence[Invitation]) -> EmailMessage:
    """Fresh links to every RSVP page an address can still reach."""
    items = [
        {**_event_context(invitation.event), "rsvp_url": rsvp_url(invitation)}
        for invitation in invitations
    ]
    headers, footer_links = list_mail_extras(email)
    mail = render_email("rsvp_fresh_link", items=items, footer_links=footer_links)
    return build_message(
        to=address(email), subject=mail.subject, text=mail.text, html=mail.html, headers=headers
    )


def build_attendee_message(
    invitation: Invitation, *, subject: str, body: str, extras: MailExtras | None = None
) -> EmailMessage:
    """An organiser's message to the people invited to an event."""
    return _message("invitation_message", invitation, subject=subject, body=body, extras=extras)


def build_attendee_message_test(
    event: "Event", *, subject: str, body: str, to_email: str, to_name: str
) -> EmailMessage:
    """A test of a message to attendees sent to the organiser; its link opens the event page."""
    return _organiser_test(
        "invitation_message",
        event,
        subject=subject,
        body=body,
        to_email=to_email,
        to_name=to_name,
    )


def build_answers_summary(
    email: str, name: str, items: Sequence[dict[str, Any]], *, registered: bool = False
) -> EmailMessage:
    """One mail for answers given to several events at once: per event what was recorded and
    its RSVP link (each place's calendar invitation comes in a mail of its own)."""
    headers, footer_links = list_mail_extras(email)
    mail = render_email(
        "answers_summary",
        items=[{**_event_context(item["invitation"].event), **item} for item in items],
        person_name=name,
        registered=registered,
        footer_links=footer_links,
    )
    return build_message(
        to=address(email, name),
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        headers=headers,
    )
