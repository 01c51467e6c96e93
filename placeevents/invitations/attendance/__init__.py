"""Attendance: the only code that writes answers (`Rsvp`) and an event's `places_taken`.

Every change of who is coming goes through here: answers from the RSVP page or set by an
organiser, the waiting list and its offers, check-in on the day and its undo, closing check-in,
the erasure of a person and the deletion of personal answers after the retention period.
`places_taken` always equals the in-person answers that hold a place (yes or offered), and is
moved by conditional UPDATEs so capacity is exact under concurrency. A place changing hands
never moves the event's calendar version (`Event.calendar_changed_at`, `Event.sequence`).
Its modules: places (exact places, the waiting list, calendar SEQUENCE claims), answers,
check_in (and what is known of who came), erasure (and retention); this package exports the
functions other code calls.

| from            | event                                 | to                                   |
|-----------------|---------------------------------------|--------------------------------------|
| (none)/any      | yes, a place is free (or online)      | yes                                  |
| (none)/any      | yes, in person, full                  | waitlisted (at the back of the line) |
| (none)/any      | yes by an organiser, full, overbook   | yes, overbooked (audit log)          |
| waitlisted      | a place frees, event > 48 h away      | yes (confirmation mailed)            |
| waitlisted      | a place frees, event <= 48 h away     | offered (12 h to accept)             |
| offered         | accepted in time                      | yes                                  |
| offered         | offer lapses                          | no (place passed on)                 |
| yes/offered/... | maybe, no, removed, erased            | maybe/no/(gone); place passed on     |
| yes/waitlisted  | registration's confirmation refused   | no; place passed on                  |
| any/(none)      | checked in, place free or online      | yes, attended                        |
| any/(none)      | checked in, full, overbook            | yes, attended, overbooked (audit)    |
| attended        | check-in undone                       | the answer before check-in           |
| yes             | check-in closed, not checked in       | yes, did not come                    |
"""

from placeevents.invitations.attendance.answers import (
    Answer,
    Answered,
    accept_offer,
    answer_invitation,
    can_change_answer,
    can_withdraw,
    expire_offers,
    passes_place_on,
    record_history,
    release_unreachable,
    remove_invitation,
    set_answer_for,
)
from placeevents.invitations.attendance.check_in import (
    NO_ANSWER,
    CheckInError,
    PlaceNeeded,
    Presence,
    check_in,
    close_check_in,
    presence,
    reopen_check_in,
    undo_check_in,
)
from placeevents.invitations.attendance.erasure import (
    erase_invitations,
    erase_personal_answers,
    forget_event,
    names_of,
)
from placeevents.invitations.attendance.places import (
    OFFER_TIME,
    OFFER_WINDOW,
    capacity_changed,
    claim_calendar_sequence,
    held_modes,
    holds_place,
    other,
    promote_waitlist,
    waitlist_position,
    waits_for,
)

__all__ = [
    "Answer",
    "Answered",
    "CheckInError",
    "NO_ANSWER",
    "OFFER_TIME",
    "OFFER_WINDOW",
    "PlaceNeeded",
    "Presence",
    "accept_offer",
    "answer_invitation",
    "can_change_answer",
    "can_withdraw",
    "capacity_changed",
    "check_in",
    "claim_calendar_sequence",
    "close_check_in",
    "erase_invitations",
    "erase_personal_answers",
    "expire_offers",
    "forget_event",
    "held_modes",
    "holds_place",
    "names_of",
    "other",
    "passes_place_on",
    "presence",
    "promote_waitlist",
    "record_history",
    "release_unreachable",
    "remove_invitation",
    "reopen_check_in",
    "set_answer_for",
    "undo_check_in",
    "waitlist_position",
    "waits_for",
]
