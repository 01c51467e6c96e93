"""The organiser's enquiry pages: the list, opening and editing an enquiry, its lines of
enquiry, archiving, and a fixed number of queries however many events it has."""

from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.enquiries.models import Enquiry, EnquiryQuestion, EnquiryStatus
from placeevents.events.models import EventFormat, EventStatus
from placeevents.extensions import db
from tests.conftest import count_queries
from tests.test_events.conftest import field_error


def _enquiries() -> list[Enquiry]:
    db.session.expire_all()
    return list(db.session.scalars(select(Enquiry).order_by(Enquiry.id)))


def _titles(enquiry_id: int) -> list[tuple[int, str]]:
    db.session.expire_all()
    return [
        (q.position, q.title)
        for q in db.session.scalars(
            select(EnquiryQuestion)
            .where(EnquiryQuestion.enquiry_id == enquiry_id)
            .order_by(EnquiryQuestion.position)
        )
    ]


def test_the_enquiry_page_lists_its_events_in_order(
    logged_in: FlaskClient, make_enquiry: Any, make_event: Any
) -> None:
    enquiry = make_enquiry(title="Total Place 2.0")
    base = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)
    make_event(enquiry=enquiry, title="Second", starts_at=base + timedelta(days=7))
    make_event(
        enquiry=enquiry, title="First", starts_at=base, status=EventStatus.DRAFT, capacity=20
    )
    make_event(
        enquiry=enquiry, title="Third", starts_at=base + timedelta(days=9),
        status=EventStatus.CANCELLED,
    )  # fmt: skip
    page = logged_in.get(f"/manage/enquiries/{enquiry.id}").get_data(as_text=True)
    assert page.index(">First<") < page.index(">Second<") < page.index(">Third<")
    assert ">Draft<" in page and ">Published<" in page and ">Cancelled<" in page
    assert "0 of 20" in page
    assert f"/manage/events/new?enquiry={enquiry.id}" in page
    assert "On the home page" in page


def test_the_enquiry_page_shows_in_person_and_online_places_of_each_event(
    logged_in: FlaskClient, make_enquiry: Any, make_event: Any
) -> None:
    enquiry = make_enquiry(title="Total Place 2.0")
    make_event(
        enquiry=enquiry, title="Both", format=EventFormat.HYBRID, capacity=20,
        online_capacity=50, join_url="https://meet.example.org/room",
    )  # fmt: skip
    make_event(enquiry=enquiry, title="Room only", format=EventFormat.IN_PERSON, capacity=12)
    page = logged_in.get(f"/manage/enquiries/{enquiry.id}").get_data(as_text=True)
    assert "Online places" in page
    row = page[page.index("Both") :]
    assert "0 of 20" in row and "0 of 50" in row
    room = page[page.index("Room only") :]
    assert "0 of 12" in room and "—" in room


def test_the_list_and_the_dashboard_link_the_enquiries(
    logged_in: FlaskClient, make_enquiry: Any, make_event: Any
) -> None:
    current = make_enquiry(title="Total Place 2.0")
    make_event(enquiry=current, title="Coming soon")
    old = make_enquiry(title="Leading beyond boundaries", status=EnquiryStatus.ARCHIVED)
    listing = logged_in.get("/manage/enquiries/").get_data(as_text=True)
    assert f'href="/manage/enquiries/{current.id}"' in listing
    assert f'href="/manage/enquiries/{old.id}"' in listing
    dashboard = logged_in.get("/manage/").get_data(as_text=True)
    assert "Total Place 2.0" in dashboard and "Coming soon" in dashboard
    assert 'href="/manage/enquiries/"' in dashboard and 'href="/manage/enquiries/new"' in dashboard
    assert f"/manage/events/new?enquiry={current.id}" in dashboard
    assert "Leading beyond boundaries" in dashboard


def test_open_a_new_enquiry(logged_in: FlaskClient, make_enquiry: Any) -> None:
    make_enquiry(title="Earlier")
    response = logged_in.post(
        "/manage/enquiries/new",
        data={
            "title": "Total Place 3.0",
            "summary": "The next question.",
            "introduction": "We ask **again**.",
            "timezone": "Europe/Dublin",
        },
    )
    assert response.status_code == 302
    earlier_now, new = _enquiries()
    assert response.headers["Location"] == f"/manage/enquiries/{new.id}"
    assert (new.slug, new.title, new.timezone) == (
        "total-place-3-0",
        "Total Place 3.0",
        "Europe/Dublin",
    )
    assert new.status == EnquiryStatus.CURRENT
    assert earlier_now.status == EnquiryStatus.ARCHIVED
    home = logged_in.get("/").get_data(as_text=True)
    assert "Total Place 3.0" in home and "We ask <strong>again</strong>." in home


def test_a_title_that_is_a_number_gets_a_slug_that_is_not_an_id(
    logged_in: FlaskClient, make_enquiry: Any
) -> None:
    # The audit log reads a bare number as an id: enquiry "1" was shown as the one with id 1.
    first = make_enquiry(title="Total Place 2.0")
    response = logged_in.post("/manage/enquiries/new", data={"title": "1", "timezone": "UTC"})
    assert response.status_code == 302
    new = _enquiries()[-1]
    assert new.slug.startswith("enquiry-1") and not new.slug.isdigit() and new.id != first.id
    page = logged_in.get("/manage/audit/").get_data(as_text=True)
    assert f'href="/manage/enquiries/{new.id}"' in page


def test_index_pages_list_the_current_enquiry_first_and_count_events_in_words(
    logged_in: FlaskClient, make_enquiry: Any, make_event: Any
) -> None:
    current = make_enquiry(title="Total Place 2.0")
    one = make_enquiry(title="One event enquiry", status=EnquiryStatus.ARCHIVED)
    make_event(enquiry=one)
    two = make_enquiry(title="Two events enquiry", status=EnquiryStatus.ARCHIVED)
    make_event(enquiry=two)
    make_event(enquiry=two)
    # The archived ones were made after the current one, yet it comes first.
    assert current.created_at <= one.created_at <= two.created_at
    for url in ("/manage/", "/manage/enquiries/"):
        page = logged_in.get(url).get_data(as_text=True)
        assert page.index("Total Place 2.0") < page.index("Two events enquiry"), url
        assert page.index("Total Place 2.0") < page.index("One event enquiry"), url
    dashboard = logged_in.get("/manage/").get_data(as_text=True)
    assert "One event enquiry</a> · 1 event</li>" in dashboard
    assert "Two events enquiry</a> · 2 events</li>" in dashboard
    assert "1 events" not in dashboard


def test_enquiry_errors_are_shown_beside_the_field(logged_in: FlaskClient) -> None:
    response = logged_in.post(
        "/manage/enquiries/new", data={"title": "Something", "timezone": "Mars/Olympus_Mons"}
    )
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "timezone") == (
        "'Mars/Olympus_Mons' is not a time zone we know. Use a name like Europe/London."
    )
    response = logged_in.post("/manage/enquiries/new", data={"title": " ", "timezone": "UTC"})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "title") == "Give the enquiry a title."
    assert _enquiries() == []


def test_enquiry_errors_all_show_on_one_submit(logged_in: FlaskClient) -> None:
    response = logged_in.post("/manage/enquiries/new", data={"title": "", "timezone": "Nowhere"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "title") == "Give the enquiry a title."
    assert field_error(page, "timezone") == (
        "'Nowhere' is not a time zone we know. Use a name like Europe/London."
    )
    assert _enquiries() == []


def test_edit_an_enquiry(logged_in: FlaskClient, make_enquiry: Any) -> None:
    enquiry = make_enquiry(title="Old title")
    form = logged_in.get(f"/manage/enquiries/{enquiry.id}/edit").get_data(as_text=True)
    assert 'value="Old title"' in form and '<option selected value="Europe/London">' in form
    response = logged_in.post(
        f"/manage/enquiries/{enquiry.id}/edit",
        data={
            "title": "New title",
            "summary": "Short",
            "introduction": "Para one.\n\nPara two.",
            "timezone": "Europe/Paris",
        },
    )
    assert response.status_code == 302
    [saved] = _enquiries()
    assert (saved.title, saved.summary, saved.timezone) == ("New title", "Short", "Europe/Paris")
    public = logged_in.get(f"/enquiries/{saved.slug}").get_data(as_text=True)
    assert "<p>Para one.</p>" in public and "<p>Para two.</p>" in public
    bad = logged_in.post(
        f"/manage/enquiries/{enquiry.id}/edit", data={"title": "X", "timezone": "Nowhere"}
    )
    assert bad.status_code == 422 and _enquiries()[0].timezone == "Europe/Paris"


def test_lines_of_enquiry_add_edit_reorder_remove(
    logged_in: FlaskClient, make_enquiry: Any
) -> None:
    enquiry = make_enquiry(questions=["Bid and pilot", "National bodies", "Sharing learning"])
    base = f"/manage/enquiries/{enquiry.id}"
    response = logged_in.post(f"{base}/questions", data={"title": "A fourth", "body": "What else?"})
    assert response.status_code == 302
    assert _titles(enquiry.id)[-1] == (4, "A fourth")

    blank = logged_in.post(f"{base}/questions", data={"title": "", "body": "x"})
    assert blank.status_code == 422
    assert field_error(blank.get_data(as_text=True), "title") == "Give the line of enquiry a title."

    ids = {title: qid for qid, title in db.session.execute(
        select(EnquiryQuestion.id, EnquiryQuestion.title)
    )}  # fmt: skip
    edit = logged_in.post(
        f"/manage/enquiries/questions/{ids['National bodies']}/edit",
        data={"title": "Holding national bodies to account", "body": "Inverse."},
    )
    assert edit.status_code == 302
    logged_in.post(f"/manage/enquiries/questions/{ids['A fourth']}/move", data={"direction": "up"})
    logged_in.post(
        f"/manage/enquiries/questions/{ids['Bid and pilot']}/move", data={"direction": "down"}
    )
    # Moving the first up leaves it where it is.
    logged_in.post(
        f"/manage/enquiries/questions/{ids['National bodies']}/move",
        data={"direction": "up"},
    )
    assert _titles(enquiry.id) == [
        (1, "Holding national bodies to account"),
        (2, "Bid and pilot"),
        (3, "A fourth"),
        (4, "Sharing learning"),
    ]
    logged_in.post(f"/manage/enquiries/questions/{ids['Bid and pilot']}/remove")
    assert _titles(enquiry.id) == [
        (1, "Holding national bodies to account"),
        (2, "A fourth"),
        (3, "Sharing learning"),
    ]
    home = logged_in.get("/").get_data(as_text=True)
    assert home.index("Holding national bodies") < home.index("A fourth") < home.index("Sharing")


def test_archive_and_make_current(logged_in: FlaskClient, make_enquiry: Any) -> None:
    first = make_enquiry(title="First enquiry")
    second = make_enquiry(title="Second enquiry", status=EnquiryStatus.ARCHIVED)
    logged_in.post(f"/manage/enquiries/{first.id}/archive")
    assert [e.status for e in _enquiries()] == [EnquiryStatus.ARCHIVED] * 2
    assert "No enquiry yet" in logged_in.get("/").get_data(as_text=True)
    assert "First enquiry" in logged_in.get("/archive").get_data(as_text=True)

    logged_in.post(f"/manage/enquiries/{second.id}/make-current")
    logged_in.post(f"/manage/enquiries/{first.id}/make-current")
    assert [e.status for e in _enquiries()] == [EnquiryStatus.CURRENT, EnquiryStatus.ARCHIVED]
    home = logged_in.get("/").get_data(as_text=True)
    assert '<h1 class="hero__title">First enquiry</h1>' in home


def test_organiser_pages_make_a_fixed_number_of_queries(
    logged_in: FlaskClient, make_enquiry: Any, make_event: Any
) -> None:
    enquiry = make_enquiry()
    other = make_enquiry(status=EnquiryStatus.ARCHIVED)

    def counts() -> tuple[int, int, int]:
        db.session.expire_all()
        result = []
        for path in (f"/manage/enquiries/{enquiry.id}", "/manage/", "/manage/enquiries/"):
            with count_queries() as statements:
                assert logged_in.get(path).status_code == 200
            result.append(len(statements))
        return result[0], result[1], result[2]

    for _ in range(2):
        make_event(enquiry=enquiry)
    few = counts()
    for n in range(12):
        make_event(enquiry=enquiry if n % 3 else other, status=EventStatus.DRAFT)
    assert counts() == few
