"""Asking to be invited to every exploration of an enquiry: from the preferences page and from
the page the welcome mail links to (GET shows, POST asks); unsubscribing and erasure forget it."""

import re
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents import erasure
from placeevents.enquiries.models import EnquiryStatus
from placeevents.extensions import db
from placeevents.newsletter.links import PREFERENCES, STANDING, UNSUBSCRIBE, token_for
from placeevents.newsletter.models import StandingInvitation, Subscriber, SubscriberStatus


def _standing() -> set[tuple[str, int]]:
    db.session.expire_all()
    rows = db.session.execute(
        select(Subscriber.email, StandingInvitation.enquiry_id).join(
            Subscriber, StandingInvitation.subscriber_id == Subscriber.id
        )
    )
    return {(email, enquiry_id) for email, enquiry_id in rows}


def _preferences(subscriber: Any) -> str:
    return f"/newsletter/preferences/{token_for(PREFERENCES, subscriber)}"


def _path(url: str) -> str:
    return urlsplit(url).path


DETAILS = {"name": "Ada", "wants_in_person": "y", "wants_news": "y"}


def test_the_preferences_page_offers_each_current_enquiry(
    client: FlaskClient, make_enquiry: Any, make_subscriber: Any
) -> None:
    bids = make_enquiry(title="Bids and pilots")
    leaders = make_enquiry(title="Leaders of place")
    make_enquiry(title="Old questions", status=EnquiryStatus.ARCHIVED)
    ada = make_subscriber(email="ada@example.org")
    url = _preferences(ada)

    page = client.get(url).get_data(as_text=True)
    assert "Invite me to every exploration of Bids and pilots" in page
    assert "Invite me to every exploration of Leaders of place" in page
    assert "Old questions" not in page
    assert _standing() == set()

    saved = client.post(url, data={**DETAILS, "standing_for": [str(bids.id), str(leaders.id)]})
    assert saved.status_code == 303
    assert _standing() == {("ada@example.org", bids.id), ("ada@example.org", leaders.id)}
    page = client.get(url).get_data(as_text=True)
    for enquiry in (bids, leaders):
        assert re.search(
            rf'<input checked id="[^"]+" name="standing_for"[^>]*value="{enquiry.id}"', page
        )

    # Unticking one keeps the other; saving the rest of the page alone keeps what is ticked.
    client.post(url, data={**DETAILS, "standing_for": [str(leaders.id)]})
    assert _standing() == {("ada@example.org", leaders.id)}
    client.post(url, data={**DETAILS, "standing_for": []})
    assert _standing() == set()

    # An enquiry that is not offered is refused beside the field, and nothing changes.
    refused = client.post(url, data={**DETAILS, "standing_for": ["999999"]})
    assert refused.status_code == 422
    assert _standing() == set()


def test_the_welcome_mail_links_to_a_page_whose_button_asks(
    client: FlaskClient, make_enquiry: Any, sign_up: Any, smtp: Any
) -> None:
    enquiry = make_enquiry(title="Bids and pilots")
    sign_up()
    confirm = smtp.last_to("ada@example.org").links()[0]
    client.post(_path(confirm))
    welcome = smtp.last_to("ada@example.org")
    assert "every exploration of our enquiry" in welcome.text()
    assert "- Bids and pilots" in welcome.text() and "<li>Bids and pilots</li>" in welcome.html()
    [link] = [u for u in welcome.links() if "/newsletter/standing/" in u]
    assert link in welcome.html()

    # A mail scanner following the link changes nothing.
    for _ in range(2):
        shown = client.get(_path(link))
        assert shown.status_code == 200
        assert shown.headers["Cache-Control"] == "no-store"
    page = shown.get_data(as_text=True)
    assert "Invite me to every exploration of Bids and pilots</button>" in page
    assert "face-to-face and hybrid explorations" in page
    assert _standing() == set()

    asked = client.post(_path(link), data={"enquiry_id": str(enquiry.id)})
    assert asked.status_code == 303
    assert _standing() == {("ada@example.org", enquiry.id)}
    page = client.get(_path(link)).get_data(as_text=True)
    assert "You will be invited to every exploration of this enquiry." in page
    assert "Invite me to every exploration of Bids and pilots</button>" not in page

    # Asking twice is harmless.
    assert client.post(_path(link), data={"enquiry_id": str(enquiry.id)}).status_code == 303
    assert _standing() == {("ada@example.org", enquiry.id)}


def test_the_standing_page_refuses_what_it_cannot_do(
    client: FlaskClient, make_enquiry: Any, make_subscriber: Any
) -> None:
    archived = make_enquiry(status=EnquiryStatus.ARCHIVED)
    ada = make_subscriber(email="ada@example.org")
    gone = make_subscriber(email="gone@example.org", status=SubscriberStatus.UNSUBSCRIBED)
    url = f"/newsletter/standing/{token_for(STANDING, ada)}"

    assert client.post(url, data={"enquiry_id": "nonsense"}).status_code == 422
    assert client.post(url, data={}).status_code == 422
    refused = client.post(url, data={"enquiry_id": str(archived.id)})
    assert refused.status_code == 422
    assert "not running any more" in refused.get_data(as_text=True)
    # A token for another purpose, or a broken one, is a link problem.
    assert client.get(f"/newsletter/standing/{token_for(PREFERENCES, ada)}").status_code == 404
    assert client.get("/newsletter/standing/nonsense").status_code == 404

    enquiry = make_enquiry()
    left = client.post(
        f"/newsletter/standing/{token_for(STANDING, gone)}", data={"enquiry_id": str(enquiry.id)}
    )
    assert left.status_code == 422
    assert "confirmed subscriber" in left.get_data(as_text=True)
    assert _standing() == set()


def test_unsubscribing_and_erasure_forget_standing_invitations(
    client: FlaskClient, make_enquiry: Any, make_subscriber: Any
) -> None:
    enquiry = make_enquiry()
    leaving = make_subscriber(email="leaving@example.org")
    erased = make_subscriber(email="erased@example.org")
    staying = make_subscriber(email="staying@example.org")
    for person in (leaving, erased, staying):
        url = f"/newsletter/standing/{token_for(STANDING, person)}"
        assert client.post(url, data={"enquiry_id": str(enquiry.id)}).status_code == 303
    assert len(_standing()) == 3

    data = client.get(_preferences(staying) + "/my-data.json").get_json()
    assert data["invited_to_every_exploration_of"] == [enquiry.title]

    client.post(f"/newsletter/unsubscribe/{token_for(UNSUBSCRIBE, leaving)}")
    erasure.erase_person(email="erased@example.org")
    db.session.commit()
    assert _standing() == {("staying@example.org", enquiry.id)}

    # Someone unsubscribed is not offered the choice, and their preferences form cannot add it.
    page = client.get(_preferences(leaving)).get_data(as_text=True)
    assert "Invite me to every exploration" not in page
    client.post(_preferences(leaving), data={**DETAILS, "standing_for": [str(enquiry.id)]})
    assert _standing() == {("staying@example.org", enquiry.id)}
