"""Pages of the invitations domain: public (bp) and organiser pages under /manage/ (manage_bp)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from types import SimpleNamespace
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import Connection, Row, Select, select
from werkzeug.wrappers import Response

from placeevents import limits
from placeevents.addresses import normalise_email
from placeevents.caching import no_store, one_read, personal_page
from placeevents.db import ReadAgain
from placeevents.enquiries.models import Enquiry
from placeevents.events.models import Event, EventFormat, EventStatus
from placeevents.extensions import csrf, db
from placeevents.invitations import (
    attendance,
    errors,
    forms,
    messages,
    registration,
    responses,
    sending,
    several,
    standing,
)
from placeevents.invitations.calendar_parts import NotConfirmed, personal_ics_for
from placeevents.invitations.links import STOP_PURPOSE, stop_token
from placeevents.invitations.mail import where
from placeevents.invitations.models import AttendanceMode, Invitation, Rsvp, RsvpAnswer
from placeevents.mail.outbox import batch_progress
from placeevents.newsletter.services import (
    NewsletterError,
    add_do_not_invite,
    ask_standing_for_address,
    is_do_not_invite,
    standing_offer,
    standing_offer_columns,
    standing_offer_from,
)
from placeevents.notes.services import attendee_notes, shared_with_column
from placeevents.public_forms import same_origin_only
from placeevents.settings.services import settings_read, with_settings
from placeevents.tokens import ExpiredToken, InvalidToken

bp = Blueprint("invitations", __name__)
manage_bp = Blueprint("invitations", __name__, url_prefix="/invitations")

Page = str | tuple[str, int] | Response


# Every public page here is reached through a personal link: never cached.
bp.after_request(no_store)


def _link_problem(expired: bool) -> tuple[str, int]:
    form = forms.FreshLinkForm()
    return render_template("invitations/link_problem.html", form=form, expired=expired), (
        410 if expired else 404
    )


def _invitation(token: str, purpose: str | None = None) -> Invitation | tuple[str, int]:
    try:
        if purpose is None:
            return responses.invitation_for_token(token=token)
        return responses.invitation_for_token(token=token, purpose=purpose)
    except ExpiredToken:
        return _link_problem(expired=True)
    except InvalidToken:
        return _link_problem(expired=False)


@dataclass(frozen=True)
class PersonalPaths:
    """The paths of the pages of one personal link (the RSVP page and its forms' actions)."""

    page: str
    answer: str
    calendar: str
    accept: str
    standing: str
    others: str
    stop: str


# Stands for the token in the paths built once (see _path_parts); never part of a route.
_TOKEN = "-token-"
_PERSONAL_ENDPOINTS = {
    "page": "invitations.rsvp",
    "answer": "invitations.answer",
    "calendar": "invitations.personal_calendar",
    "accept": "invitations.accept",
    "standing": "invitations.ask_standing",
    "others": "invitations.answer_others",
}


@lru_cache(maxsize=16)
def _path_parts(script_root: str) -> dict[str, tuple[str, str]]:
    # Each personal page's path before and after its token, from the URL map (which never
    # changes while the process runs), once per script root the app is served under.
    del script_root  # the key: url_for reads it from the request
    parts = {}
    for name, endpoint in {**_PERSONAL_ENDPOINTS, "stop": "invitations.stop"}.items():
        before, _, after = url_for(endpoint, token=_TOKEN).partition(_TOKEN)
        parts[name] = (before, after)
    return parts


def personal_paths(token: str, stop: str) -> PersonalPaths:
    """The paths of a personal link's pages (`stop` is its stop token), as url_for builds
    them: our tokens are URL-safe characters only, so nothing in them needs quoting."""
    parts = _path_parts(request.script_root)
    return PersonalPaths(
        **{name: f"{parts[name][0]}{token}{parts[name][1]}" for name in _PERSONAL_ENDPOINTS},
        stop=f"{parts['stop'][0]}{stop}{parts['stop'][1]}",
    )


def _rsvp_page(
    invitation: Invitation | responses.InvitationValues,
    token: str,
    form: forms.RsvpForm | None = None,
    error: str = "",
    *,
    confirm_give_up: bool = False,
    shared: bool | None = None,
    offer: str | None = None,
    section: dict[str, object] | None = None,
) -> str:
    """The RSVP page, of the invitation's ORM objects or (a GET's) their plain values; `shared`,
    `offer` and `section`, when the view read them (see rsvp), spare the queries asking whether
    notes were shared with the person, what the page offers them and their other
    invitations."""
    rsvp = invitation.rsvp
    position = (
        attendance.waitlist_position(rsvp)
        if rsvp is not None and attendance.waits_for(rsvp) is not None
        else None
    )
    event = invitation.event
    show_join = (
        rsvp is not None
        and rsvp.answer == RsvpAnswer.YES
        and rsvp.mode == AttendanceMode.ONLINE
        and event.is_online
        and event.status == EventStatus.PUBLISHED
    )
    # Said before it happens: a yes now would wait for a place (per mode on a hybrid event).
    choices = _yes_choices(event, rsvp)
    single = responses.mode_choices(event)[0]
    joins_waitlist = (
        event.format != EventFormat.HYBRID
        and choices[single][1]
        and not (rsvp is not None and rsvp.answer == RsvpAnswer.WAITLISTED)
    )
    # A hybrid event with a full mode: one button per mode, saying what each does.
    mode_buttons = [
        (f"yes_{mode.value}", label)
        for mode, (label, _) in choices.items()
        if event.format == EventFormat.HYBRID and any(f for _, f in choices.values())
    ]
    return render_template(
        "invitations/rsvp.html",
        # Markup: the page's words as written, apostrophe and all (both labels are constants).
        yes_label=Markup("Join the waiting list" if joins_waitlist else "Yes, I'll come"),
        invitation=invitation,
        event=event,
        rsvp=rsvp,
        full_notice=_full_notice(event, choices),
        mode_buttons=mode_buttons,
        answer_fields=_answer_fields(event, rsvp, form, mode_field=not mode_buttons),
        waits_for=attendance.waits_for(rsvp),
        kind=KIND,
        confirm_give_up=confirm_give_up,
        token=token,
        form=form,
        position=position,
        can_change=attendance.can_change_answer(invitation),
        can_withdraw=attendance.can_withdraw(invitation),
        show_join=show_join,
        error=error,
        where=where(event),
        paths=personal_paths(token, stop_token(invitation)),
        notes=attendee_notes(invitation, shared=shared),
        offer=(
            standing_offer(email=invitation.email, enquiry_id=event.enquiry_id)
            if offer is None
            else offer
        ),
        **({} if section is None else {"section": section}),
    )


def _answer_fields(
    event: Event, rsvp: Rsvp | None, form: forms.RsvpForm | None, *, mode_field: bool
) -> Markup:
    """The RSVP form's fields: the answer sent back (with its errors) or, on a GET, the
    person's answer so far."""
    hybrid = event.format == EventFormat.HYBRID
    shape = (
        hybrid and mode_field,
        event.mode_help if hybrid and mode_field else "",
        (event.ask_access_needs, event.ask_dietary_needs, event.ask_question),
    )
    if form is None:
        mode = rsvp.mode.value if rsvp is not None and rsvp.mode is not None else None
        texts = (rsvp.access_needs, rsvp.dietary_needs, rsvp.question) if rsvp is not None else ()
        if not any(texts):
            return blank_rsvp_fields(*shape, mode=mode if shape[0] else None, hybrid=hybrid)
        form = _rsvp_form(mode, *texts)
    if hybrid:
        form.mark_mode_needed()
    return _render_rsvp_fields(form, *shape)


def _rsvp_form(mode: str | None, access: str, dietary: str, question: str) -> forms.RsvpForm:
    # Never the request's form data: this shows the answer as stored.
    form = forms.RsvpForm(formdata=None)
    form.mode.data = mode
    form.access_needs.data = access
    form.dietary_needs.data = dietary
    form.question.data = question
    return form


def _render_rsvp_fields(
    form: forms.RsvpForm, mode_field: bool, mode_help: str, asked: tuple[bool, bool, bool]
) -> Markup:
    return Markup(
        render_template(
            "invitations/_rsvp_fields.html",
            form=form,
            mode_field=mode_field,
            mode_help=mode_help,
            asked=asked,
        )
    )


@lru_cache(maxsize=1024)
def blank_rsvp_fields(
    mode_field: bool,
    mode_help: str,
    asked: tuple[bool, bool, bool],
    *,
    mode: str | None,
    hybrid: bool,
) -> Markup:
    """The RSVP form's fields with no text answered yet: the same for every such view of an
    event's page, so rendered once per process for each shape."""
    form = _rsvp_form(mode, "", "", "")
    if hybrid:
        form.mark_mode_needed()
    return _render_rsvp_fields(form, mode_field, mode_help, asked)


def _yes_choices(event: Event, rsvp: Rsvp | None) -> dict[AttendanceMode, tuple[str, bool]]:
    """Per mode of the event: what a yes in it does for this person, and whether it waits."""
    result = {}
    for mode in responses.mode_choices(event):
        other = attendance.other(mode)
        full = (event.room_full if mode == AttendanceMode.IN_PERSON else event.online_full) and (
            not attendance.holds_place(rsvp, mode)
        )
        if attendance.holds_place(rsvp, mode) and rsvp is not None and rsvp.mode == mode:
            label = f"Yes, {mode.label} only" if rsvp.waiting_for else f"Yes, {mode.label}"
        elif not full:
            label = f"Join {mode.label} now"
        elif attendance.waits_for(rsvp) == mode:
            label = f"Stay on the {KIND[mode]} waiting list"
        elif rsvp is not None and rsvp.answer == RsvpAnswer.YES and rsvp.mode == other:
            label = f"Wait for a place {mode.label}, keeping my {other.label} place"
        else:
            label = f"Join the {KIND[mode]} waiting list"
        result[mode] = (label, full)
    return result


def _full_notice(event: Event, choices: dict[AttendanceMode, tuple[str, bool]]) -> str:
    full = [mode for mode, (_, waits) in choices.items() if waits]
    if not full:
        return ""
    if event.format != EventFormat.HYBRID:
        return (
            "Every place is taken. Say yes to join the waiting list: we will mail you as soon "
            "as a place is yours."
        )
    if len(full) == 2:
        return (
            "Every in-person and every online place is taken. Choose which waiting list to "
            "join: we will mail you as soon as a place is yours."
        )
    mode, other = full[0], attendance.other(full[0])
    return (
        f"Every {KIND[mode]} place is taken. You can join {other.label} now, or join the "
        f"{KIND[mode]} waiting list; with an {KIND[other]} place you keep it while you wait."
    )


@cache
def _rsvp_lookup() -> Select[Any]:
    # Built once on first use: the invitation, with whether a note of its event was shared
    # with the address, the address's mailing-list standing and the settings (the page's
    # layout shows them), in one statement.
    return with_settings(
        responses.values_lookup_with(
            shared_with_column(Invitation.event_id, Invitation.email),
            *standing_offer_columns(email=Invitation.email, enquiry_id=Event.enquiry_id),
        )
    )


# What the RSVP page reads: the invitation's values, the lookup's other columns, the person's
# other invitations.
_RsvpReads = tuple[responses.InvitationValues, tuple[Any, ...], Sequence[Row[Any]]]


def _rsvp_reads_on(token: str, connection: Connection | None) -> _RsvpReads:
    found, row = responses.invitation_values_for_token(
        token=token, lookup=_rsvp_lookup(), connection=connection
    )
    return found, row, several.other_invitation_rows(invitation=found, connection=connection)


def _rsvp_reads(token: str) -> _RsvpReads:
    # The page's two reads (the lookup, the other invitations) run on a connection of their
    # own without a transaction, as the public pages' version does (`one_read`), straight on
    # its driver (`db.plain_rows`): on PostgreSQL two round trips where the session's
    # connection makes five. If that fails (a connection the server dropped), the session's
    # connection, which is pinged first, reads them again, and reports any other fault.
    try:
        with one_read(current_app) as connection:
            return _rsvp_reads_on(token, connection)
    except ReadAgain:
        return _rsvp_reads_on(token, None)


@bp.get("/rsvp/<token>")
@limits.PERSONAL_LINK
@personal_page
def rsvp(token: str) -> Page:
    try:
        found, row, others = _rsvp_reads(token)
    except ExpiredToken:
        return _link_problem(expired=True)
    except InvalidToken:
        return _link_problem(expired=False)
    shared, status, chosen, *settings = row
    settings_read(settings)
    section = other_invitations_section(found, others)
    if normalise_email(found.email) != found.email:
        # The columns compared the address as stored; the services compare it normalised.
        return _rsvp_page(found, token, section=section)
    offer = standing_offer_from(
        enquiry_status=found.event.enquiry.status, status=status, chosen=chosen
    )
    return _rsvp_page(found, token, shared=shared, offer=offer, section=section)


@bp.get("/rsvp/<token>/calendar.ics")
@limits.PERSONAL_LINK
def personal_calendar(token: str) -> Page:
    found = _invitation(token)
    if not isinstance(found, Invitation):
        return found
    try:
        body = personal_ics_for(found)
    except NotConfirmed:
        abort(404)
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Type": "text/calendar; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{found.event.slug}.ics"',
        },
    )


ANSWERS = {
    "yes": (RsvpAnswer.YES, False),
    "maybe": (RsvpAnswer.MAYBE, False),
    "no": (RsvpAnswer.NO, False),
    "no_notes": (RsvpAnswer.NO, True),
    "yes_in_person": (RsvpAnswer.YES, False),
    "yes_online": (RsvpAnswer.YES, False),
}
# A mode as an adjective: "an in-person place".
KIND = {AttendanceMode.IN_PERSON: "in-person", AttendanceMode.ONLINE: "online"}
# The buttons of a hybrid event with a full mode say the mode themselves.
BUTTON_MODES = {"yes_in_person": "in_person", "yes_online": "online"}

CONFIRMATIONS = {
    RsvpAnswer.YES: "Thank you: your place is confirmed. We have sent you a confirmation.",
    RsvpAnswer.WAITLISTED: "All places are taken, so you are on the waiting list.",
    RsvpAnswer.MAYBE: "Thank you: we have noted your maybe.",
    RsvpAnswer.NO: "Thank you for letting us know you can't come.",
}


# Forms behind a personal link need no session: the token in the link is the proof.
@bp.post("/rsvp/<token>")
@csrf.exempt
@limits.PERSONAL_LINK
def answer(token: str) -> Page:
    found = _invitation(token)
    if not isinstance(found, Invitation):
        return found
    form = forms.RsvpForm()
    if not form.validate_on_submit():
        return _rsvp_page(found, token, form, error="Please check your answer."), 422
    answer, wants_notes = ANSWERS[form.answer.data]
    mode = form.mode.data if form.mode.data in {m.value for m in AttendanceMode} else None
    mode = BUTTON_MODES.get(form.answer.data, mode)
    if form.give_up_place.data != "y" and attendance.passes_place_on(
        invitation=found, answer=answer
    ):
        # Someone is waiting for this place: say what the answer does before it is done.
        return _rsvp_page(found, token, form, confirm_give_up=True)
    try:
        answered = attendance.answer_invitation(
            invitation=found,
            answer=attendance.Answer(
                answer=answer,
                mode=AttendanceMode(mode) if mode else None,
                wants_notes=wants_notes,
                **forms.needs_answered(form),
            ),
        )
    except errors.ModeNeeded as exc:
        db.session.rollback()
        form.mode.errors = [*form.mode.errors, str(exc)]
        found = responses.invitation_for_token(token=token)
        return _rsvp_page(found, token, form, error="Please check your answer."), 422
    except errors.InvitationError as exc:
        db.session.rollback()
        found = responses.invitation_for_token(token=token)
        return _rsvp_page(found, token, form, error=str(exc)), 422
    db.session.commit()
    rsvp = answered.rsvp
    if answered.joined_line:
        flash(
            f"You keep your {rsvp.mode.label} place, and you are on the "
            f"{KIND[rsvp.waiting_for]} waiting list: we will mail you if a place comes up.",
            "neutral",
        )
    elif answered.left_line:
        flash(f"You are no longer waiting; you keep your {rsvp.mode.label} place.", "info")
    elif answered.details_only:
        flash("Thank you: your details are updated, and your place is unchanged.", "info")
    elif answered.passed_on:
        flash(
            f"{CONFIRMATIONS[rsvp.answer]} Your place has gone to the next person on the "
            "waiting list.",
            "info",
        )
    else:
        # A place on the waiting list is not a booking, so it is not shown as a success.
        if rsvp.answer == RsvpAnswer.WAITLISTED and rsvp.mode is not None:
            line = f"{KIND[rsvp.mode]} " if found.event.format == EventFormat.HYBRID else ""
            flash(
                f"All {KIND[rsvp.mode]} places are taken, so you are on the {line}waiting list.",
                "neutral",
            )
        else:
            kind = "neutral" if rsvp.answer == RsvpAnswer.WAITLISTED else "info"
            flash(CONFIRMATIONS[rsvp.answer], kind)
    return redirect(url_for("invitations.rsvp", token=token))


@bp.post("/rsvp/<token>/accept")
@csrf.exempt
@limits.PERSONAL_LINK
def accept(token: str) -> Page:
    found = _invitation(token)
    if not isinstance(found, Invitation):
        return found
    form = forms.LinkButtonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        attendance.accept_offer(invitation=found)
    except errors.InvitationError as exc:
        db.session.rollback()
        found = responses.invitation_for_token(token=token)
        return _rsvp_page(found, token, error=str(exc)), 422
    db.session.commit()
    flash("Your place is confirmed. We have sent you a confirmation.", "info")
    return redirect(url_for("invitations.rsvp", token=token))


@bp.route("/rsvp/fresh-link", methods=["GET", "POST"])
@same_origin_only
@limits.FRESH_LINK
def fresh_link() -> Page:
    form = forms.FreshLinkForm()
    if form.validate_on_submit():
        sending.send_fresh_links(email=form.email.data)
        db.session.commit()
        return render_template("invitations/fresh_link_sent.html")
    status = 422 if request.method == "POST" else 200
    return render_template("invitations/link_problem.html", form=form, expired=None), status


@bp.get("/invitations/stop/<token>")
@limits.PERSONAL_LINK
def stop(token: str) -> Page:
    found = _invitation(token, STOP_PURPOSE)
    if not isinstance(found, Invitation):
        return found
    return render_template(
        "invitations/stop.html",
        invitation=found,
        form=forms.LinkButtonForm(),
        stopped=is_do_not_invite(found.email),
    )


@bp.post("/invitations/stop/<token>")
@csrf.exempt
@limits.PERSONAL_LINK
def stop_confirm(token: str) -> Page:
    found = _invitation(token, STOP_PURPOSE)
    if not isinstance(found, Invitation):
        return found
    if not forms.LinkButtonForm().validate_on_submit():
        abort(400)
    add_do_not_invite(found.email)
    db.session.commit()
    return redirect(url_for("invitations.stop", token=token))


@bp.post("/rsvp/<token>/standing")
@csrf.exempt
@limits.PERSONAL_LINK
def ask_standing(token: str) -> Page:
    found = _invitation(token)
    if not isinstance(found, Invitation):
        return found
    if not forms.LinkButtonForm().validate_on_submit():
        abort(400)
    try:
        ask_standing_for_address(email=found.email, enquiry_id=found.event.enquiry_id)
    except NewsletterError as exc:
        db.session.rollback()
        return _rsvp_page(found, token, error=str(exc)), 409
    db.session.commit()
    flash("We will invite you to every exploration of this enquiry.", "info")
    return redirect(url_for("invitations.rsvp", token=token))


@bp.app_template_global()
def standing_count(event: Event) -> standing.StandingCount:
    """For the invite page: who stands invited to every exploration, and who was invited here."""
    return standing.standing_count(event=event)


def _open_event(slug: str) -> Event:
    event = db.session.scalar(select(Event).where(Event.slug == slug))
    if event is None or not event.is_public:
        abort(404)
    return event


def _request_form(event: Event) -> forms.RequestPlaceForm:
    form = forms.RequestPlaceForm()
    if event.format == EventFormat.HYBRID:
        form.mark_mode_needed()
    return form


# Rendered sections, by what they show: on GET the form holds no data, so what the event asks
# and what its offer says give the same bytes. Each store is cleared whole when full.
_RENDERED_KEPT = 256
_REQUEST_PLACE_HTML: dict[tuple[object, ...], Markup] = {}


def _rendered_once(
    store: dict[tuple[object, ...], Markup], key: tuple[object, ...], render: Callable[[], str]
) -> Markup:
    html = store.get(key)
    if html is None:
        html = Markup(render())
        if len(store) >= _RENDERED_KEPT:
            store.clear()
        store[key] = html
    return html


@bp.app_template_global()
def request_place_html(event: Event, heading_level: int = 2) -> Markup:
    """The registration form of an open event and what it says now, rendered for the event's
    page (empty when the event takes no registration)."""
    offer = registration.offer_for(event=event)
    if offer.closed is not None:
        return Markup("")
    key = (
        request.script_root,
        event.slug,
        event.format,
        event.mode_help if event.format == EventFormat.HYBRID else "",
        event.ask_access_needs,
        event.ask_dietary_needs,
        event.ask_question,
        offer.full,
        offer.button,
        heading_level,
    )
    return _rendered_once(
        _REQUEST_PLACE_HTML,
        key,
        lambda: render_template(
            "invitations/_request_place.html",
            event=event,
            request_form=_request_form(event),
            offer=offer,
            heading_level=heading_level,
        ),
    )


# The outcome is the POST's own page (200): a redirect would need a session or a token to say it.
@bp.route("/events/<slug>/request-place", methods=["GET", "POST"])
@same_origin_only
@limits.REQUEST_PLACE
def request_place(slug: str) -> Page:
    event = _open_event(slug)
    form = _request_form(event)
    if request.method == "POST" and form.robot:
        return render_template("invitations/request_place_sent.html", event=event)
    offer = registration.offer_for(event=event)
    if offer.closed is None and form.validate_on_submit():
        mode = form.chosen_mode
        try:
            registered = registration.register(
                event=event,
                name=form.name.data,
                email=form.email.data,
                mode=AttendanceMode(mode) if mode else None,
                **forms.needs_answered(form),
            )
        except errors.ModeNeeded as exc:
            db.session.rollback()
            form.mode.errors = [*form.mode.errors, str(exc)]
        except registration.RegistrationClosed as exc:
            db.session.rollback()
            offer = registration.Offer(closed=exc)
        except errors.InvitationError as exc:
            db.session.rollback()
            form.email.errors = [*form.email.errors, str(exc)]
        else:
            db.session.commit()
            if registered.rsvp is None:
                return render_template("invitations/request_place_sent.html", event=event)
            return render_template(
                "invitations/request_place_registered.html",
                event=event,
                rsvp=registered.rsvp,
                position=registered.position,
                email=registered.rsvp.invitation.email,
                where=registered.where,
            )
    status = 422 if request.method == "POST" else 200
    return render_template(
        "invitations/request_place.html", event=event, form=form, offer=offer
    ), status


# --- several explorations at once: a person's other invitations, registration for several


@bp.app_template_global()
def places_words(event: Event) -> str:
    """An event's places left in words: "12 places left", "Waiting list", or "" if unlimited."""
    if not event.has_place or event.places_left is None:
        return ""
    if event.places_left == 0:
        return "In person: waiting list" if event.format == EventFormat.HYBRID else "Waiting list"
    return f"{event.places_left} place{'s' if event.places_left != 1 else ''} left"


@dataclass(frozen=True)
class OtherLine:
    """One of the person's other open invitations as their RSVP page lists it."""

    id: int
    title: str
    when: Markup
    format_label: str
    places: str
    answer_words: Markup
    hybrid: bool


# Markup: the words as written, apostrophes and all (constants, and a mode's label).
_ANSWER_WORDS = {
    RsvpAnswer.WAITLISTED: Markup("You're on the waiting list."),
    RsvpAnswer.OFFERED: Markup("A place is offered to you."),
    RsvpAnswer.MAYBE: Markup("You said maybe."),
}


def _other_line(
    other_id: int,
    event: Event | responses.EventValues,
    answer: RsvpAnswer | None,
    mode: AttendanceMode | None,
) -> OtherLine:
    if answer is None:
        words = Markup("Not answered yet.")
    elif answer == RsvpAnswer.YES:
        words = Markup("You're coming {}.").format(mode.label if mode is not None else "")
    else:
        words = _ANSWER_WORDS.get(answer, Markup("You said no."))
    return OtherLine(
        id=other_id,
        title=event.title,
        when=current_app.jinja_env.filters["when_html"](event),
        format_label=event.format.label,
        places=places_words(event),
        answer_words=words,
        hybrid=event.format == EventFormat.HYBRID,
    )


def _other_lines(others: Sequence[Invitation]) -> list[OtherLine]:
    return [
        _other_line(
            other.id,
            other.event,
            other.rsvp.answer if other.rsvp else None,
            other.rsvp.mode if other.rsvp else None,
        )
        for other in others
    ]


@bp.app_template_global()
def other_invitations_section(
    invitation: Invitation | responses.InvitationValues,
    rows: Sequence[Row[Any]] | None = None,
) -> dict[str, object]:
    """The person's other open invitations of the enquiry and the form answering them, for
    their RSVP page: read as plain rows (unless given, from several.other_invitation_rows),
    each shown with its blank fields."""
    # Every other invitation is of the page's enquiry: its time zone.
    enquiry = invitation.event.enquiry
    others = [
        _other_line(
            row.id,
            responses.EventValues(
                title=row.title,
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                format=row.format,
                capacity=row.capacity,
                places_taken=row.places_taken,
                enquiry=enquiry,
            ),
            row.answer,
            row.mode,
        )
        for row in (several.other_invitation_rows(invitation=invitation) if rows is None else rows)
    ]
    return {
        "others": others,
        "form": None,
        "fields": {
            other.id: blank_other_answer_fields(other.id, other.title, other.hybrid)
            for other in others
        },
    }


@lru_cache(maxsize=4096)
def blank_other_answer_fields(invitation_id: int, title: str, hybrid: bool) -> Markup:
    """One other invitation's fields as a blank form renders them: the same on every view of
    the page until the event's title or format changes, so rendered once per process."""
    event = SimpleNamespace(title=title, format=EventFormat.HYBRID if hybrid else "")
    form = forms.other_answers_form([SimpleNamespace(id=invitation_id, event=event)])
    return Markup(
        render_template(
            "invitations/_other_answer_fields.html",
            form=form,
            other_id=invitation_id,
            hybrid=hybrid,
        )
    )


def _choices(form: forms.OtherAnswersForm) -> dict[int, several.Choice]:
    return {
        invitation_id: several.Choice(
            answer=RsvpAnswer(answer), mode=AttendanceMode(mode) if mode else None
        )
        for invitation_id, (answer, mode) in form.chosen().items()
    }


@bp.post("/rsvp/<token>/others")
@csrf.exempt
@limits.PERSONAL_LINK
def answer_others(token: str) -> Page:
    found = _invitation(token)
    if not isinstance(found, Invitation):
        return found
    others = several.other_invitations(invitation=found)
    form = forms.other_answers_form(others)
    error = ""
    if form.strays(request.form):
        error = (
            "One of the events you answered is not one of your invitations here, or its answers "
            "have closed. Reload the page to see your invitations as they are now."
        )
    elif form.validate_on_submit():
        try:
            outcomes = several.answer_others(invitation=found, choices=_choices(form))
        except errors.InvitationError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            db.session.commit()
            return render_template(
                "invitations/answers_recorded.html",
                outcomes=outcomes,
                email=found.email,
                back_url=url_for("invitations.rsvp", token=token),
            )
    else:
        error = "Please check your answers."
    found = responses.invitation_for_token(token=token)
    return render_template(
        "invitations/other_answers.html",
        invitation=found,
        token=token,
        paths=personal_paths(token, stop_token(found)),
        section={"others": _other_lines(several.other_invitations(invitation=found)), "form": form},
        error=error,
    ), 422


def _enquiry(slug: str) -> Enquiry:
    enquiry = db.session.scalar(select(Enquiry).where(Enquiry.slug == slug))
    if enquiry is None:
        abort(404)
    return enquiry


# Like the event's section: the same events (titles, times, places left, questions) give the
# same bytes.
_REQUEST_PLACES_HTML: dict[tuple[object, ...], Markup] = {}


@bp.app_template_global()
def request_places_html(
    enquiry: Enquiry, upcoming: Sequence[Event] | None = None, heading_level: int = 2
) -> Markup:
    """The enquiry's open events and the one form registering for several, rendered for its
    page (empty when none is open). `upcoming`, where the page loaded the enquiry's events
    already, spares the query."""
    events = (
        several.open_events(enquiry=enquiry) if upcoming is None else several.open_among(upcoming)
    )
    if not events:
        return Markup("")
    key = (
        request.script_root,
        enquiry.slug,
        enquiry.timezone,
        heading_level,
        *(
            (
                e.id,
                e.title,
                e.starts_at,
                e.ends_at,
                e.format,
                places_words(e),
                e.ask_access_needs,
                e.ask_dietary_needs,
                e.ask_question,
            )
            for e in events
        ),
    )
    return _rendered_once(
        _REQUEST_PLACES_HTML,
        key,
        lambda: render_template(
            "invitations/_request_places.html",
            enquiry=enquiry,
            section={"events": events, "form": forms.request_places_form(events)},
            heading_level=heading_level,
        ),
    )


# Like request_place: the outcome is the POST's own page, with no session or token to carry it.
@bp.route("/enquiries/<slug>/request-places", methods=["GET", "POST"])
@same_origin_only
@limits.REQUEST_PLACE
def request_places(slug: str) -> Page:
    enquiry = _enquiry(slug)
    events = several.open_events(enquiry=enquiry)
    form = forms.request_places_form(events)
    if request.method == "POST" and form.robot:
        return render_template("invitations/request_places_sent.html", enquiry=enquiry)
    error = ""
    if form.validate_on_submit():
        try:
            registered = several.register_several(
                enquiry=enquiry,
                name=form.name.data,
                email=form.email.data,
                choices={
                    event_id: AttendanceMode(mode) if (mode := form.mode_for(event_id)) else None
                    for event_id in form.events.data
                },
                **forms.needs_answered(form),
            )
        except errors.InvitationError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            db.session.commit()
            if not registered.outcomes:
                return render_template("invitations/request_places_sent.html", enquiry=enquiry)
            return render_template(
                "invitations/answers_recorded.html",
                outcomes=registered.outcomes,
                email=registered.email,
                back_url=url_for("enquiries.show", slug=enquiry.slug),
            )
        events = several.open_events(enquiry=enquiry)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "invitations/request_places.html",
        enquiry=enquiry,
        section={"events": events, "form": form},
        error=error,
    ), status


# --- organiser pages


def _event(event_id: int) -> Event:
    try:
        return responses.get_event(event_id=event_id)
    except errors.InvitationError:
        abort(404)


def _choice(form: forms.InviteForm) -> sending.RecipientChoice:
    return sending.RecipientChoice(
        subscribers=form.subscribers.data,
        past_events=tuple(form.past_events.data or ()),
        past_presence=form.past_presence.data,
        pasted=tuple(getattr(form, "pasted_addresses", ())),
    )


@bp.app_template_global()
def invite_closed_reason(event: Event) -> str:
    """Why nobody can be invited to the event now ("" if they can), for the event's pages."""
    return sending.invite_closed_reason(event=event)


@bp.app_template_global()
def message_closed_reason(event: Event) -> str:
    """Why the people invited can't be written to now ("" if they can)."""
    return messages.message_closed_reason(event=event)


@bp.app_template_global()
def invitable_past_events(event: Event) -> list[sending.PastEvent]:
    """The enquiry's earlier events whose people the invite page offers, with their counts."""
    return sending.past_events(event=event)


@bp.app_template_global()
def event_answer_counts(event: Event) -> dict[str, int]:
    """An event's invitations by answer, for the card on its organiser page (one query)."""
    return responses.answer_counts(event_ids=[event.id])[event.id]


@manage_bp.route("/events/<id:event_id>/invite", methods=["GET", "POST"])
@limits.ORGANISER_SEND
def invite(event_id: int) -> Page:
    event = _event(event_id)
    closed = sending.invite_closed_reason(event=event)
    if closed:
        status = 409 if request.method == "POST" else 200
        return render_template("invitations/invite.html", event=event, closed=closed), status
    form = forms.InviteForm()
    if request.method == "GET":
        form.subject.data, form.body.data = sending.default_invitation_text(event)
    preview = None
    action = request.form.get("action", "preview")
    if form.validate_on_submit():
        try:
            if action == "send" and form.confirmed.data != "y":
                # Nothing leaves before the organiser has seen how many, and pressed again.
                preview = sending.preview_invitation(
                    event=event,
                    choice=_choice(form),
                    subject=form.subject.data,
                    body=form.body.data,
                )
                form.confirmed.data = "y"
                return render_template(
                    "invitations/invite.html",
                    event=event,
                    form=form,
                    preview=preview,
                    confirm=True,
                )
            if action == "send":
                mailing = sending.send_invitations(
                    event=event,
                    choice=_choice(form),
                    subject=form.subject.data,
                    body=form.body.data,
                    organiser=current_user,
                )
                db.session.commit()
                return redirect(
                    url_for("manage.invitations.mailing", event_id=event.id, mailing_id=mailing.id)
                )
            if action == "test":
                sending.send_test_invitation(
                    event=event,
                    organiser=current_user,
                    subject=form.subject.data,
                    body=form.body.data,
                )
                db.session.commit()
                flash(f"A test has been sent to {current_user.email}.", "info")
            preview = sending.preview_invitation(
                event=event, choice=_choice(form), subject=form.subject.data, body=form.body.data
            )
        except errors.InvitationError as exc:
            db.session.rollback()
            form.subscribers.errors = [*form.subscribers.errors, str(exc)]
            return render_template("invitations/invite.html", event=event, form=form), 422
    elif request.method == "POST":
        return render_template("invitations/invite.html", event=event, form=form), 422
    # A preview or a test asks again before sending: what was confirmed may have changed.
    form.confirmed.data = ""
    return render_template("invitations/invite.html", event=event, form=form, preview=preview)


@manage_bp.get("/events/<id:event_id>/mailings/<id:mailing_id>")
def mailing(event_id: int, mailing_id: int) -> Page:
    try:
        found = responses.get_mailing(event_id=event_id, mailing_id=mailing_id)
    except errors.InvitationError:
        abort(404)
    return render_template(
        "invitations/mailing.html",
        mailing=found,
        event=found.event,
        progress=batch_progress(found.batch_key),
    )


@manage_bp.get("/events/<id:event_id>/responses", endpoint="responses")
def responses_page(event_id: int) -> Page:
    try:
        found = responses.responses(event_id=event_id)
    except errors.InvitationError:
        abort(404)
    return render_template(
        "invitations/responses.html",
        responses=found,
        event=found.event,
        remind_form=forms.RemindForm(),
    )


@manage_bp.post("/events/<id:event_id>/remind")
@limits.ORGANISER_SEND
def remind(event_id: int) -> Page:
    event = _event(event_id)
    form = forms.RemindForm()
    if not form.validate_on_submit():
        flash("Choose at least one person to remind.", "error")
        return redirect(url_for("manage.invitations.responses", event_id=event.id))
    mailing = messages.remind_non_responders(
        event=event, invitation_ids=form.invitations.data, organiser=current_user
    )
    db.session.commit()
    message = f"Reminded {mailing.recipients}."
    if mailing.skipped_recent:
        message += f" {mailing.skipped_recent} already reminded in the last day were left alone."
    flash(message, "info")
    return redirect(url_for("manage.invitations.mailing", event_id=event.id, mailing_id=mailing.id))


@manage_bp.route("/events/<id:event_id>/message", methods=["GET", "POST"])
@limits.ORGANISER_SEND
def message(event_id: int) -> Page:
    event = _event(event_id)
    closed = messages.message_closed_reason(event=event)
    if closed:
        status = 409 if request.method == "POST" else 200
        return render_template("invitations/message.html", event=event, closed=closed), status
    form = forms.MessageForm()
    form.set_audiences(messages.audience_choices(event=event))
    if request.method == "GET":
        return render_template("invitations/message.html", event=event, form=form)
    if not form.validate_on_submit():
        return render_template("invitations/message.html", event=event, form=form), 422
    action = request.form.get("action", "preview")
    try:
        if action == "send":
            mailing = messages.message_attendees(
                event=event,
                audience=form.audience.data,
                subject=form.subject.data,
                body=form.body.data,
                organiser=current_user,
            )
            db.session.commit()
            return redirect(
                url_for("manage.invitations.mailing", event_id=event.id, mailing_id=mailing.id)
            )
        if action == "test":
            messages.send_test_message(
                event=event, organiser=current_user, subject=form.subject.data, body=form.body.data
            )
            db.session.commit()
            flash(f"A test has been sent to {current_user.email}.", "info")
        preview = messages.preview_message(
            event=event, audience=form.audience.data, subject=form.subject.data, body=form.body.data
        )
    except errors.InvitationError as exc:
        db.session.rollback()
        form.audience.errors = [*form.audience.errors, str(exc)]
        return render_template("invitations/message.html", event=event, form=form), 422
    return render_template("invitations/message.html", event=event, form=form, preview=preview)


def _managed_invitation(invitation_id: int) -> Invitation:
    try:
        return responses.get_invitation(invitation_id=invitation_id)
    except errors.InvitationError:
        abort(404)


@manage_bp.route("/<id:invitation_id>/answer", methods=["GET", "POST"])
def set_answer(invitation_id: int) -> Page:
    invitation = _managed_invitation(invitation_id)
    form = forms.OrganiserAnswerForm()
    if invitation.event.format == EventFormat.HYBRID:
        # Needed with a yes, so not labelled optional.
        form.mode.flags.required = True
    if request.method == "GET" and invitation.rsvp is not None:
        rsvp = invitation.rsvp
        form.answer.data = (
            "yes"
            if rsvp.answer in (RsvpAnswer.WAITLISTED, RsvpAnswer.OFFERED)
            else rsvp.answer.value
        )
        form.mode.data = rsvp.mode.value if rsvp.mode is not None else None
    if form.validate_on_submit():
        mode = form.mode.data if form.mode.data in {m.value for m in AttendanceMode} else None
        rsvp = invitation.rsvp
        try:
            attendance.set_answer_for(
                invitation=invitation,
                answer=attendance.Answer(
                    answer=RsvpAnswer(form.answer.data),
                    mode=AttendanceMode(mode) if mode else None,
                    access_needs=rsvp.access_needs if rsvp else "",
                    dietary_needs=rsvp.dietary_needs if rsvp else "",
                    question=rsvp.question if rsvp else "",
                ),
                organiser=current_user,
                overbook=bool(form.overbook.data),
                notify=bool(form.notify.data),
            )
        except errors.InvitationError as exc:
            db.session.rollback()
            invitation = _managed_invitation(invitation_id)
            form.mode.errors = [*form.mode.errors, str(exc)]
        else:
            db.session.commit()
            flash(f"The answer of {invitation.name or invitation.email} is saved.", "info")
            return redirect(url_for("manage.invitations.responses", event_id=invitation.event_id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "invitations/set_answer.html",
        invitation=invitation,
        event=invitation.event,
        form=form,
        button_form=forms.ButtonForm(),
        modes=responses.mode_choices(invitation.event),
    ), status


@manage_bp.post("/<id:invitation_id>/remove")
def remove(invitation_id: int) -> Page:
    invitation = _managed_invitation(invitation_id)
    if not forms.ButtonForm().validate_on_submit():
        abort(400)
    who = invitation.name or invitation.email
    event = attendance.remove_invitation(invitation=invitation, organiser=current_user)
    db.session.commit()
    flash(f"{who} has been removed from the list.", "info")
    return redirect(url_for("manage.invitations.responses", event_id=event.id))
