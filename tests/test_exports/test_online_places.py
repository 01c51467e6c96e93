"""Attendee lists of a hybrid event with both limits: each waiting list per mode, and someone
keeping an online place while waiting to come in person shown as both."""

from typing import Any

from flask.testing import FlaskClient

from placeevents.events.models import EventFormat
from tests.test_exports.test_attendee_lists import read_csv, read_xlsx
from tests.test_invitations.conftest import answer


def _hybrid_with_lines(make_event: Any, make_invitation: Any, client: FlaskClient) -> Any:
    event = make_event(
        format=EventFormat.HYBRID,
        join_url="https://meet.example.org/room",
        capacity=1,
        online_capacity=1,
    )
    ann, ben, cat, dan = (
        make_invitation(event=event, name=name, email=f"{name.lower()}@example.org")
        for name in ("Ann", "Ben", "Cat", "Dan")
    )
    answer(client, ann, "yes", mode="in_person")
    answer(client, ben, "yes", mode="online")
    answer(client, ben, "yes_in_person")  # keeps online, waits in person
    answer(client, cat, "yes_online")  # both full: the online line
    answer(client, dan, "yes_in_person")  # second in the in-person line
    return event


def test_rows_say_which_line_and_a_kept_place_shows_as_both(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any
) -> None:
    event = _hybrid_with_lines(make_event, make_invitation, logged_in)
    rows = read_csv(
        logged_in.post(
            f"/manage/exports/events/{event.id}/attendees.csv",
            data={"who": "everyone", "columns": ["name", "answer", "mode", "waitlist_position"]},
        )
    )
    assert rows[1:] == [
        ["Ann", "Coming", "In person", ""],
        ["Ben", "Coming", "Online; waiting: in person", "1"],
        ["Cat", "Waiting list", "Waiting: online", "1"],
        ["Dan", "Waiting list", "Waiting: in person", "2"],
    ]
    waiting = read_csv(
        logged_in.post(
            f"/manage/exports/events/{event.id}/attendees.csv",
            data={"who": "waitlisted", "columns": ["name"]},
        )
    )
    assert waiting[1:] == [["Ben"], ["Cat"], ["Dan"]]


def test_the_export_page_and_file_show_both_counts(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any
) -> None:
    event = _hybrid_with_lines(make_event, make_invitation, logged_in)
    page = logged_in.get(f"/manage/exports/events/{event.id}/").get_data(as_text=True)
    assert "<dt>In person</dt><dd>1 of 1 places taken</dd>" in page
    assert "<dt>Online</dt><dd>1 of 1 places taken</dd>" in page
    assert "<dt>Waitlist</dt><dd>3</dd>" in page
    workbook = read_xlsx(
        logged_in.post(
            f"/manage/exports/events/{event.id}/attendees.xlsx",
            data={"who": "confirmed", "columns": ["name"]},
        )
    )
    about = dict(workbook["About this export"].iter_rows(min_row=2, values_only=True))
    assert about["In person"] == "1 of 1 places taken"
    assert about["Online"] == "1 of 1 places taken"
