"""Attendance: the only code that writes answers (`Rsvp`) and an event's places taken.

Every change of who is coming goes through here: answers from the RSVP page or set by an
organiser, the waiting lists and their offers, check-in on the day and its undo, closing
check-in, the erasure of a person and the deletion of personal answers after the retention
period. Places are counted per mode: `places_taken` always equals the in-person answers that
hold a place (yes or offered), `online_places_taken` the online ones (including the online
place kept by someone waiting to come in person, and a place offered to someone who waits for
it while keeping the other). Both move by conditional UPDATEs, so each limit is exact under
concurrency. A hybrid event keeps one waiting list per mode. A place changing hands never
moves the event's calendar version (`Event.calendar_changed_at`, `Event.sequence`).
Its modules: places (exact places, the waiting lists, calendar SEQUENCE claims), answers,
check_in (and what is known of who came), erasure (and retention); this package exports the
functions other code calls.

M is the mode asked for (in person or online), O the other one.

| from              | event                                | to                                  |
|-------------------|--------------------------------------|-------------------------------------|
| (none)/any        | yes in M, an M place is free         | yes in M                            |
| (none)/any        | yes in M, M full                     | waitlisted for M (back of the line) |
| yes in O          | yes in M, M full                     | yes in O, waiting for M (keeps O)   |
| yes in O          | yes in M, an M place is free         | yes in M; the O place passed on     |
| waitlisted for O  | yes in M, an M place is free         | yes in M, still waiting for O       |
| yes in M, waits O | yes in M                             | yes in M (stops waiting for O)      |
| (none)/any        | yes by an organiser, full, overbook  | yes, overbooked (audit log)         |
| waitlisted for M  | an M place frees, event > 48 h away  | yes in M (confirmation mailed)      |
| waitlisted for M  | an M place frees, event <= 48 h away | offered in M (12 h to accept)       |
| yes in O, waits M | an M place frees, event > 48 h away  | yes in M (mailed); O passed on      |
| yes in O, waits M | an M place frees, event <= 48 h away | yes in O, offered M (holds both)    |
| offered in M      | accepted in time                     | yes in M                            |
| yes O, offered M  | accepted in time                     | yes in M; O place passed on         |
| offered in M      | offer lapses                         | no (place passed on)                |
| yes O, offered M  | offer lapses                         | yes in O (M place passed on)        |
| yes/offered/...   | maybe, no, removed, erased           | maybe/no/(gone); places passed on   |
| yes/waitlisted    | registration's confirmation refused  | no; places passed on                |
| any/(none)        | checked in, their mode has room      | yes, attended (a wait ends)         |
| any/(none)        | checked in, full, overbook           | yes, attended, overbooked (audit)   |
| attended          | check-in undone                      | the answer before check-in          |
| yes               | check-in closed, not checked in      | yes, did not come                   |
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
