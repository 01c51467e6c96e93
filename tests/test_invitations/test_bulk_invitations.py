"""A bulk send renders the invitation once and personalises it per person: each delivered
message must read exactly as build_invitation would have made it for that person."""

from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from placeevents.extensions import db
from placeevents.invitations import mail
from placeevents.invitations.models import Invitation
from placeevents.invitations.sending import PastedAddress, RecipientChoice, send_invitations
from placeevents.mail.delivery import deliver_due
from placeevents.mail.outbox import prepare
from placeevents.newsletter.links import list_mail_extras

SUBJECT = "Join us in Leeds: “place” & pilots"
# A line too long for 7bit (so a transfer encoding is chosen), non-ASCII, and HTML to escape.
BODY = (
    "We would love you to come to the café <b>not bold</b> & talk about it.\n\n"
    + "A long line that goes on " * 8
    + "\n\nBring a colleague's question."
)
# Mostly CJK in long lines: base64 rather than quoted-printable.
CJK_BODY = "我们诚挚邀请您参加本次活动，共同探讨地方发展的未来。" * 6 + "\n\n" + "请回复。" * 30

NAMES = {
    "ann@example.org": "Ann Smith",
    "zoe@example.org": "Zoë Ångström-Nuñez",
    "wang@example.org": "王小明",
    "quoted@example.org": 'Bob "The Builder" <boss@example.com>, Jr.',
    "amp@example.org": "Tom & Jerry <script>alert('x')</script>",
    "long@example.org": "Maximiliana " + "Á" * 40 + " de la Vega-" + "y" * 120,
    "noname@example.org": "",
    "josé@example.org": "José Unicode-Address",
}


def _parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.strict).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def _shape(message: EmailMessage) -> dict[str, Any]:
    """What a reader sees: the headers (but the per-message Message-ID and Date), the MIME
    structure without its boundaries, and every part decoded."""
    headers = [
        (k, str(v)) for k, v in message.items() if k not in ("Message-ID", "Date", "Content-Type")
    ]
    parts = []
    for part in message.walk():
        params = {k: v for k, v in part["Content-Type"].params.items() if k != "boundary"}
        content = None if part.is_multipart() else part.get_content()
        parts.append((part.get_content_type(), params, content))
    return {"headers": headers, "parts": parts}


@pytest.fixture
def frozen() -> Iterator[None]:
    # Links carry the time they were made: the reference build must make the same ones.
    with time_machine.travel(datetime.now(UTC).replace(microsecond=0), tick=False):
        yield


@pytest.mark.parametrize("body", [BODY, CJK_BODY], ids=["latin", "cjk"])
def test_each_personalised_invitation_reads_as_if_built_for_that_person(
    body: str,
    frozen: None,
    app: Any,
    make_event: Any,
    make_subscriber: Any,
    organiser: Any,
    smtp: Any,
) -> None:
    event = make_event(title="Bid & pilot <in Leeds>")
    for email in ("ann@example.org", "wang@example.org", "noname@example.org"):
        make_subscriber(email=email, name=NAMES[email])
    pasted = tuple(
        PastedAddress(email=e, name=n)
        for e, n in NAMES.items()
        if e not in ("ann@example.org", "wang@example.org", "noname@example.org")
    )
    choice = RecipientChoice(subscribers="all", pasted=pasted)
    send_invitations(event=event, choice=choice, subject=SUBJECT, body=body, organiser=organiser)
    db.session.commit()

    report = deliver_due()
    assert report.sent == len(NAMES) and report.failed == 0
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.event_id == event.id)
    ).all()
    assert {i.email: i.name for i in invitations} == NAMES
    message_ids = set()
    for invitation in invitations:
        [delivered] = smtp.to(invitation.email)
        got = _parse(delivered.raw)
        reference = mail.build_invitation(
            invitation, subject=SUBJECT, body=body, extras=list_mail_extras(invitation.email)
        )
        expected = _parse(prepare(reference, bulk=True).raw)
        assert _shape(got) == _shape(expected), invitation.email
        assert got["Message-ID"] and got["Date"] and got["Message-ID"] not in message_ids
        message_ids.add(got["Message-ID"])
        if invitation.email.isascii():  # else UTF-8 headers, which the parser leaves raw
            assert got["To"].addresses[0].display_name == " ".join(invitation.name.split())
        assert all(len(line) <= 998 for line in delivered.raw.split(b"\r\n"))
        assert not any(part.defects for part in got.walk()), invitation.email
    # Subscribers got the list's own links, everyone else the do-not-invite one.
    ann = _parse(smtp.to("ann@example.org")[0].raw)
    assert "newsletter/unsubscribe" in ann["List-Unsubscribe"] and ann["List-Id"]
    zoe = _parse(smtp.to("zoe@example.org")[0].raw)
    assert "/invitations/stop/" in zoe["List-Unsubscribe"] and zoe["List-Id"] is None
    encodings = {str(p["Content-Transfer-Encoding"]) for p in zoe.walk() if not p.is_multipart()}
    assert ("base64" in encodings) == (body is CJK_BODY)
    html = zoe.get_body(("html",)).get_content()
    assert "Hello Zoë Ångström-Nuñez," in html
    amp = _parse(smtp.to("amp@example.org")[0].raw)
    amp_html = amp.get_body(("html",)).get_content()
    assert "Tom &amp; Jerry &lt;script&gt;" in amp_html and "<script>" not in amp_html
    assert "Hello Tom & Jerry <script>" in amp.get_body(("plain",)).get_content()
    # Rendered once per shape: the pasted people with a name share one message's skeleton.
    pasted_named = ("zoe@example.org", "quoted@example.org", "amp@example.org", "long@example.org")
    boundaries = {_parse(smtp.to(e)[0].raw).get_boundary() for e in pasted_named}
    assert len(boundaries) == 1
