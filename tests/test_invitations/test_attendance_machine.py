"""Attendance as a state machine: answers, organisers, capacity, offers, check-in, erasure and
cancellation in random order, with the invariants every page and export relies on checked after
every step. Runs on SQLite and, in the PostgreSQL run of the suite, on PostgreSQL."""

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select

from placeevents.audit.models import AuditEntry
from placeevents.auth.services import create_organiser
from placeevents.enquiries.models import Enquiry
from placeevents.erasure import erase_person
from placeevents.events import services as events
from placeevents.events.models import Event, EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations import attendance, event_changes
from placeevents.invitations.errors import InvitationError
from placeevents.invitations.models import (
    AttendanceMode,
    Invitation,
    InvitationSource,
    Rsvp,
    RsvpAnswer,
)

START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
PEOPLE = 6
ANSWERS = {
    "yes in person": (RsvpAnswer.YES, AttendanceMode.IN_PERSON),
    "yes online": (RsvpAnswer.YES, AttendanceMode.ONLINE),
    "maybe": (RsvpAnswer.MAYBE, None),
    "no": (RsvpAnswer.NO, None),
}
HOLDING = (RsvpAnswer.YES, RsvpAnswer.OFFERED)


def _empty_database() -> None:
    db.session.remove()
    tables = [t for t in db.metadata.sorted_tables if t.name != "public_version"]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            for table in reversed(tables):
                conn.execute(table.delete())


MODES = (AttendanceMode.IN_PERSON, AttendanceMode.ONLINE)
LIMITS = {AttendanceMode.IN_PERSON: "capacity", AttendanceMode.ONLINE: "online_capacity"}
TAKEN = {AttendanceMode.IN_PERSON: "places_taken", AttendanceMode.ONLINE: "online_places_taken"}


class AttendanceMachine(RuleBasedStateMachine):
    """One hybrid event with two in-person and two online places, six people, and a clock that
    moves."""

    def __init__(self) -> None:
        super().__init__()
        _empty_database()
        self.clock = time_machine.travel(START, tick=False)
        self.traveller = self.clock.start()
        self.organiser = create_organiser(
            email="olive@example.org", name="Olive", password="correct horse battery staple"
        )
        enquiry = Enquiry(slug="total-place", title="Total Place 2.0", introduction="")
        self.event = Event(
            enquiry=enquiry,
            slug="bid-and-pilot",
            title="Breaking the cycle of bid and pilot",
            format=EventFormat.HYBRID,
            venue="Town Hall",
            address="1 High Street, Leeds",
            join_url="https://meet.example.org/bid",
            starts_at=START + timedelta(days=4),
            ends_at=START + timedelta(days=4, hours=3),
            capacity=2,
            online_capacity=2,
            status=EventStatus.PUBLISHED,
        )
        db.session.add_all([enquiry, self.event])
        self.people = [
            Invitation(
                event=self.event,
                email=f"person{n}@example.org",
                name=f"Person {n}",
                source=InvitationSource.PASTED,
            )
            for n in range(PEOPLE)
        ]
        db.session.add_all(self.people)
        db.session.commit()
        self.erased: set[int] = set()
        self.subject: int | None = None
        self.calendar_change_expected = False
        self._remember()

    def teardown(self) -> None:
        db.session.rollback()
        self.clock.stop()

    # --- helpers

    def _event(self) -> Event:
        return db.session.get(Event, self.event.id)  # type: ignore[return-value]

    def _invitation(self, n: int) -> Invitation | None:
        if n in self.erased:
            return None
        return db.session.get(Invitation, self.people[n].id)

    def _rows(self) -> list[Rsvp]:
        return list(
            db.session.scalars(
                select(Rsvp).join(Invitation).where(Invitation.event_id == self.event.id)
            )
        )

    def _waiting_order(self, mode: AttendanceMode = AttendanceMode.IN_PERSON) -> list[int]:
        waiting = [r for r in self._rows() if attendance.waits_for(r) == mode]
        waiting.sort(key=lambda r: (r.waitlisted_at, r.id))
        return [r.invitation_id for r in waiting]

    def _remember(self) -> None:
        db.session.expire_all()
        self.before_waiting = {mode: self._waiting_order(mode) for mode in MODES}
        self.before_answers = {r.invitation_id: r.answer for r in self._rows()}
        self.before_held = {r.invitation_id: attendance.held_modes(r) for r in self._rows()}
        self.before_version = self._event().calendar_changed_at

    def _step(self, subject: int | None, action: Any) -> None:
        """Move the clock, run one use case as a request would (commit, or roll back)."""
        self.traveller.shift(timedelta(minutes=7))
        self._remember()
        invitation = self._invitation(subject) if subject is not None else None
        self.subject = invitation.id if invitation is not None else None
        if subject is not None and invitation is None:
            return
        try:
            action(invitation)
        except (InvitationError, events.EventError):
            db.session.rollback()
        else:
            db.session.commit()
        db.session.expire_all()

    # --- rules

    @rule(n=st.integers(0, PEOPLE - 1), choice=st.sampled_from(sorted(ANSWERS)))
    def answer(self, n: int, choice: str) -> None:
        answer, mode = ANSWERS[choice]
        self._step(
            n,
            lambda i: attendance.answer_invitation(
                invitation=i, answer=attendance.Answer(answer=answer, mode=mode)
            ),
        )

    @rule(
        n=st.integers(0, PEOPLE - 1),
        choice=st.sampled_from(sorted(ANSWERS)),
        overbook=st.booleans(),
    )
    def organiser_sets(self, n: int, choice: str, overbook: bool) -> None:
        answer, mode = ANSWERS[choice]
        self._step(
            n,
            lambda i: attendance.set_answer_for(
                invitation=i,
                answer=attendance.Answer(answer=answer, mode=mode),
                organiser=self.organiser,
                overbook=overbook,
            ),
        )

    @rule(n=st.integers(0, PEOPLE - 1))
    def accept_offer(self, n: int) -> None:
        self._step(n, lambda i: attendance.accept_offer(invitation=i))

    @rule(capacity=st.one_of(st.none(), st.integers(0, 4)))
    def change_capacity(self, capacity: int | None) -> None:
        def act(_: Any) -> None:
            event = self._event()
            values = events.EventDetails(
                title=event.title,
                format=event.format,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                venue=event.venue,
                address=event.address,
                join_url=event.join_url,
                capacity=capacity,
                online_capacity=event.online_capacity,
            )
            events.update_event(event=event, details=values)
            attendance.capacity_changed(event=event)

        self._step(None, act)

    @rule(limit=st.one_of(st.none(), st.integers(0, 4)))
    def change_online_capacity(self, limit: int | None) -> None:
        def act(_: Any) -> None:
            event = self._event()
            values = events.EventDetails(
                title=event.title,
                format=event.format,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                venue=event.venue,
                address=event.address,
                join_url=event.join_url,
                capacity=event.capacity,
                online_capacity=limit,
            )
            events.update_event(event=event, details=values)
            attendance.capacity_changed(event=event)

        self._step(None, act)

    @rule(title=st.sampled_from(["Breaking the cycle of bid and pilot", "Beyond bid and pilot"]))
    def retitle(self, title: str) -> None:
        def act(_: Any) -> None:
            event = self._event()
            self.calendar_change_expected = event.title != title and event.status != (
                EventStatus.CANCELLED
            )
            values = events.EventDetails(
                title=title,
                format=event.format,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                venue=event.venue,
                address=event.address,
                join_url=event.join_url,
                capacity=event.capacity,
                online_capacity=event.online_capacity,
            )
            events.update_event(event=event, details=values)

        self._step(None, act)

    @rule(hours=st.integers(1, 30))
    def time_passes(self, hours: int) -> None:
        self.traveller.shift(timedelta(hours=hours))
        self._step(None, lambda _: attendance.expire_offers())

    @rule(n=st.integers(0, PEOPLE - 1), overbook=st.booleans())
    def check_in(self, n: int, overbook: bool) -> None:
        self._step(
            n,
            lambda i: attendance.check_in(
                event=self._event(), invitation=i, organiser=self.organiser, overbook=overbook
            ),
        )

    @rule(n=st.integers(0, PEOPLE - 1))
    def undo_check_in(self, n: int) -> None:
        self._step(
            n,
            lambda i: attendance.undo_check_in(
                event=self._event(), invitation=i, organiser=self.organiser
            ),
        )

    @rule(close=st.booleans())
    def finish_check_in(self, close: bool) -> None:
        step = attendance.close_check_in if close else attendance.reopen_check_in
        self._step(None, lambda _: step(event=self._event(), organiser=self.organiser))

    @rule(n=st.integers(0, PEOPLE - 1))
    def erase(self, n: int) -> None:
        self._step(n, lambda i: erase_person(email=i.email))
        self.erased.add(n)

    @precondition(lambda self: self._event().status == EventStatus.PUBLISHED)
    @rule()
    def cancel(self) -> None:
        def act(_: Any) -> None:
            event = self._event()
            message = events.cancel_event(event=event, message="The venue flooded.")
            event_changes.announce_cancellation(event=event, message=message)
            self.calendar_change_expected = True

        self._step(None, act)

    # --- invariants

    @invariant()
    def each_count_is_the_places_held_in_its_mode(self) -> None:
        event = self._event()
        for mode in MODES:
            held = [r for r in self._rows() if attendance.holds_place(r, mode)]
            assert getattr(event, TAKEN[mode]) == len(held), mode

    @invariant()
    def over_a_limit_only_by_recorded_overbookings(self) -> None:
        event = self._event()
        for mode in MODES:
            limit, taken = getattr(event, LIMITS[mode]), getattr(event, TAKEN[mode])
            if limit is None or taken <= limit:
                continue
            overbooked = [
                r for r in self._rows() if r.overbooked and attendance.holds_place(r, mode)
            ]
            assert taken <= limit + len(overbooked), mode
            logged = db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.detail.contains("overbooked"))
            )
            assert logged >= len(overbooked)

    @invariant()
    def nobody_holds_and_waits_for_the_same_mode(self) -> None:
        for r in self._rows():
            waiting = attendance.waits_for(r)
            assert waiting is None or waiting not in attendance.held_modes(r)
            # Waiting while holding is only ever for the other mode, with a place held.
            if r.waiting_for is not None:
                assert r.answer == RsvpAnswer.YES and r.mode == attendance.other(r.waiting_for)

    @invariant()
    def each_line_numbers_its_people_in_order(self) -> None:
        for mode in MODES:
            rows = {r.invitation_id: r for r in self._rows()}
            order = self._waiting_order(mode)
            assert [attendance.waitlist_position(rows[i]) for i in order] == list(
                range(1, len(order) + 1)
            )

    @invariant()
    def freed_places_go_to_the_front_of_the_line(self) -> None:
        rows = {r.invitation_id: r for r in self._rows()}
        event = self._event()
        for mode in MODES:
            before = self.before_waiting[mode]
            promoted = [
                i
                for i in before
                if i != self.subject
                and i in rows
                and attendance.holds_place(rows[i], mode)
                and mode not in self.before_held.get(i, [])
            ]
            others = [i for i in before if i != self.subject]
            assert promoted == others[: len(promoted)], mode
            limit, taken = getattr(event, LIMITS[mode]), getattr(event, TAKEN[mode])
            open_for_answers = event.status == EventStatus.PUBLISHED
            free = limit is None or taken < limit
            if open_for_answers and free and datetime.now(UTC) < event.starts_at:
                assert self._waiting_order(mode) == [], mode

    @invariant()
    def nobody_waits_who_has_arrived(self) -> None:
        assert not [r for r in self._rows() if attendance.waits_for(r) and r.attended]

    @invariant()
    def calendar_version_moves_only_with_what_a_calendar_shows(self) -> None:
        moved = self._event().calendar_changed_at != self.before_version
        assert moved == self.calendar_change_expected
        self.calendar_change_expected = False


IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_attendance_state_machine(app: Flask) -> None:
    AttendanceMachine.TestCase.settings = settings(
        max_examples=int(os.environ.get("ATTENDANCE_EXAMPLES", "30")),
        stateful_step_count=30,
        deadline=None,
        derandomize=IN_CI,
        database=None,
        # Under CI a failure is reported as found: shrinking a long run can take minutes.
        phases=[Phase.explicit, Phase.generate] if IN_CI else list(Phase),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    AttendanceMachine.TestCase().runTest()
