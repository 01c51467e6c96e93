"""The team: organiser accounts, sign-in, invitations, roles, password resets and account changes.

Every change is recorded in the audit log. Links mailed to organisers are signed tokens whose
nonce is a fingerprint of what using them changes (the password, the email address), so each
link works once.
"""

import hashlib
from datetime import timedelta

from sqlalchemy import func, select

from placeevents.addresses import normalise_email
from placeevents.audit.services import Target, record
from placeevents.auth import sessions, two_factor
from placeevents.auth.models import Organiser, Role
from placeevents.auth.passwords import (
    PasswordRefused,
    check_password_rules,
    hash_password,
    password_matches,
)
from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.mail.outbox import address, build_message, enqueue, render_email
from placeevents.mail.requests import QueuedRequest, mail_request_handler, request_mail
from placeevents.settings.services import current_settings
from placeevents.tokens import ExpiredToken, InvalidToken, make_token, read_token
from placeevents.urls import external_url

JOIN = "team-join"
RESET = "password-reset"
EMAIL_CHANGE = "email-change"
JOIN_LIFETIME = timedelta(hours=72)
RESET_LIFETIME = timedelta(hours=1)
EMAIL_CHANGE_LIFETIME = timedelta(hours=24)


class OrganiserError(ValueError):
    """An organiser account cannot be created or changed as asked; the message is fit to show."""


class LinkProblem(ValueError):
    """A mailed link that does not work: tampered, expired or already used."""


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


def _checked_password(password: str) -> str:
    try:
        check_password_rules(password)
    except PasswordRefused as exc:
        raise OrganiserError(str(exc)) from exc
    return hash_password(password)


def _checked_email(email: str, *, organiser: Organiser | None = None) -> str:
    email = normalise_email(email)
    if "@" not in email:
        raise OrganiserError("Enter an email address.")
    other = db.session.scalar(select(Organiser).where(func.lower(Organiser.email) == email))
    if other is not None and other is not organiser:
        raise OrganiserError(f"An organiser with the email {email} already exists.")
    return email


def by_email(email: str) -> Organiser | None:
    """The organiser with this address, if any."""
    return db.session.scalar(
        select(Organiser).where(func.lower(Organiser.email) == normalise_email(email))
    )


# --- creating and signing in


def create_organiser(
    *, email: str, name: str, password: str, role: Role | None = None
) -> Organiser:
    """Add an organiser who can sign in with this email and password.

    The first organiser is an admin; later ones are organisers unless `role` says otherwise.
    """
    email = _checked_email(email)
    if not name.strip():
        raise OrganiserError("Enter a name.")
    password_hash = _checked_password(password)
    if role is None:
        role = Role.ORGANISER if db.session.scalar(select(Organiser.id).limit(1)) else Role.ADMIN
    organiser = Organiser(email=email, name=name.strip(), password_hash=password_hash, role=role)
    db.session.add(organiser)
    db.session.flush()
    return organiser


def authenticate(*, email: str, password: str) -> Organiser | None:
    """The organiser for these credentials, or None (the same for unknown and wrong)."""
    organiser = by_email(email)
    if organiser is None or not organiser.active:
        # Spend the same time as a real check so response times do not reveal accounts.
        password_matches("", password)
        return None
    if not password_matches(organiser.password_hash, password):
        return None
    return organiser


def sign_in(*, organiser: Organiser) -> None:
    """Start a session for the organiser who just proved who they are.

    Sign-ins are not audited: each is a session row, listed on the organiser's account page.
    """
    organiser.last_login_at = utcnow()
    sessions.start_session(organiser=organiser)


def sign_out(*, organiser: Organiser) -> None:
    """End the session this request runs in."""
    sessions.end_current_session(organiser=organiser)


def check_sign_in_code(*, organiser: Organiser, code: str) -> bool:
    """Whether the second-factor code is right (an app code or an unused recovery code)."""
    kind = two_factor.verify(organiser=organiser, code=code)
    if kind is None:
        record(
            action="auth.two_factor_refused",
            target=f"organiser:{organiser.id}",
            organiser=organiser,
        )
        return False
    if kind == "recovery":
        left = two_factor.unused_recovery_codes(organiser=organiser)
        record(
            action="auth.recovery_code_used",
            target=f"organiser:{organiser.id}",
            detail=f"{left} left",
            organiser=organiser,
        )
    return True


def pending_sign_in_fingerprint(organiser: Organiser) -> str:
    """What a half-finished sign-in (password given, code not yet) is bound to."""
    return _fingerprint(organiser.id, organiser.password_hash, organiser.totp_secret)


# --- the team


def team() -> list[Organiser]:
    """Every organiser, admins first, then by name."""
    return list(
        db.session.scalars(
            select(Organiser).order_by(Organiser.role, Organiser.name, Organiser.email)
        )
    )


def _active_admins() -> int:
    return (
        db.session.scalar(
            select(func.count(Organiser.id)).where(
                Organiser.role == Role.ADMIN,
                Organiser.active.is_(True),
                Organiser.password_hash != "",
            )
        )
        or 0
    )


def last_admin_id() -> int | None:
    """The id of the one active admin, when only one is left (who must stay an admin)."""
    if _active_admins() > 1:
        return None
    return db.session.scalar(
        select(Organiser.id).where(
            Organiser.role == Role.ADMIN,
            Organiser.active.is_(True),
            Organiser.password_hash != "",
        )
    )


def _is_last_admin(organiser: Organiser) -> bool:
    return (
        organiser.role == Role.ADMIN
        and organiser.active
        and organiser.has_joined
        and _active_admins() <= 1
    )


def invite_colleague(*, email: str, role: Role, invited_by: Organiser) -> Organiser:
    """Invite a colleague by email: a link valid 72 hours to set their name and password.

    Inviting an address already invited sends a fresh link and spends the earlier one.
    """
    email = normalise_email(email)
    organiser = by_email(email)
    if organiser is not None and organiser.has_joined:
        raise OrganiserError(f"{email} already has an organiser account.")
    if organiser is None:
        email = _checked_email(email)
        organiser = Organiser(email=email, name="", password_hash="", role=role)
        db.session.add(organiser)
    organiser.role = role
    organiser.active = True
    organiser.invited_at = utcnow()
    db.session.flush()
    link = external_url("auth.join", token=join_token(organiser))
    settings = current_settings()
    mail = render_email(
        "team_invitation",
        organisation_name=settings.organisation_name,
        inviter=invited_by,
        role=role,
        link=link,
        hours=int(JOIN_LIFETIME.total_seconds() // 3600),
    )
    enqueue(
        build_message(to=address(email), subject=mail.subject, text=mail.text, html=mail.html),
        kind="team-invitation",
    )
    record(action="team.invite", target=f"organiser:{organiser.id}", detail=f"{email} as {role}")
    return organiser


def join_token(organiser: Organiser) -> str:
    return make_token(JOIN, organiser.id, _join_nonce(organiser))


def _join_nonce(organiser: Organiser) -> str:
    invited = organiser.invited_at.isoformat() if organiser.invited_at else ""
    return _fingerprint(organiser.password_hash, invited)


def _read_link(purpose: str, token: str, lifetime: timedelta) -> tuple[Organiser, str]:
    try:
        data = read_token(purpose, token, max_age=int(lifetime.total_seconds()))
    except ExpiredToken as exc:
        raise LinkProblem("This link has expired.") from exc
    except InvalidToken as exc:
        raise LinkProblem("This link is not valid.") from exc
    organiser = db.session.get(Organiser, data.row_id)
    if organiser is None:
        raise LinkProblem("This link is not valid.")
    return organiser, data.nonce


def invited_organiser(*, token: str) -> Organiser:
    """The colleague a join link invites, if it is genuine, unexpired and unused."""
    organiser, nonce = _read_link(JOIN, token, JOIN_LIFETIME)
    if organiser.has_joined or not organiser.active or nonce != _join_nonce(organiser):
        raise LinkProblem("This link has been used already, or a newer one was sent.")
    return organiser


def join(*, token: str, name: str, password: str) -> Organiser:
    """An invited colleague sets their name and password: their account is ready to sign in."""
    organiser = invited_organiser(token=token)
    if not name.strip():
        raise OrganiserError("Enter your name.")
    organiser.password_hash = _checked_password(password)
    organiser.name = " ".join(name.split())
    db.session.flush()
    record(
        action="team.join",
        target=f"organiser:{organiser.id}",
        detail=organiser.email,
        organiser=organiser,
    )
    return organiser


def change_role(*, organiser: Organiser, role: Role) -> None:
    """Make the organiser an admin or an organiser; the last admin stays one."""
    if organiser.role == role:
        return
    if _is_last_admin(organiser):
        raise OrganiserError("The last admin cannot stop being one: make someone else admin first.")
    organiser.role = role
    db.session.flush()
    record(
        action="team.role", target=f"organiser:{organiser.id}", detail=f"{organiser.email}: {role}"
    )


def deactivate(*, organiser: Organiser) -> None:
    """Stop the organiser signing in; every session of theirs ends at once."""
    if not organiser.active:
        return
    if _is_last_admin(organiser):
        raise OrganiserError("The last admin cannot be deactivated: make someone else admin first.")
    organiser.active = False
    sessions.end_sessions(organiser=organiser)
    db.session.flush()
    record(action="team.deactivate", target=f"organiser:{organiser.id}", detail=organiser.email)


def reactivate(*, organiser: Organiser) -> None:
    """Let a deactivated organiser sign in again."""
    if organiser.active:
        return
    organiser.active = True
    db.session.flush()
    record(action="team.reactivate", target=f"organiser:{organiser.id}", detail=organiser.email)


def reset_two_factor(*, organiser: Organiser) -> None:
    """Another admin turns off a locked-out organiser's two-factor sign-in (audited)."""
    two_factor.disable(organiser=organiser)
    sessions.end_sessions(organiser=organiser)
    record(
        action="team.two_factor_reset", target=f"organiser:{organiser.id}", detail=organiser.email
    )


def audit_target(key: str) -> Target | None:
    """How the audit log names an organiser."""
    if not key.isdigit():
        return None
    organiser = db.session.get(Organiser, int(key))
    if organiser is None:
        return None
    return Target(label=f"{organiser.name or organiser.email} ({organiser.email})")


# --- password reset


def request_password_reset(*, email: str) -> None:
    """Queue a reset mail for this address; the worker mails it only if it has an account."""
    request_mail(kind=RESET, email=normalise_email(email))


@mail_request_handler(RESET)
def _answer_reset_request(queued: QueuedRequest) -> None:
    organiser = by_email(queued.email)
    if organiser is None or not organiser.active or not organiser.has_joined:
        return
    link = external_url("auth.reset_password", token=reset_token(organiser))
    mail = render_email(
        "password_reset",
        organisation_name=current_settings().organisation_name,
        organiser=organiser,
        link=link,
        minutes=int(RESET_LIFETIME.total_seconds() // 60),
    )
    enqueue(
        build_message(
            to=address(organiser.email, organiser.name),
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
        ),
        kind="password-reset",
    )
    record(action="auth.reset_requested", target=f"organiser:{organiser.id}", organiser=organiser)


def reset_token(organiser: Organiser) -> str:
    return make_token(RESET, organiser.id, _fingerprint(organiser.password_hash))


def organiser_to_reset(*, token: str) -> Organiser:
    """The organiser a reset link is for, if it is genuine, under an hour old and unused."""
    organiser, nonce = _read_link(RESET, token, RESET_LIFETIME)
    if not organiser.active or nonce != _fingerprint(organiser.password_hash):
        raise LinkProblem("This link has been used already.")
    return organiser


def reset_password(*, token: str, password: str) -> Organiser:
    """Set a new password from a reset link: the link is spent and every session ends."""
    organiser = organiser_to_reset(token=token)
    organiser.password_hash = _checked_password(password)
    sessions.end_sessions(organiser=organiser)
    db.session.flush()
    record(action="auth.password_reset", target=f"organiser:{organiser.id}", organiser=organiser)
    return organiser


# --- the organiser's own account


def change_name(*, organiser: Organiser, name: str) -> None:
    """Change the name the organiser is shown by."""
    name = " ".join(name.split())
    if not name:
        raise OrganiserError("Enter your name.")
    if name != organiser.name:
        organiser.name = name
        db.session.flush()
        record(action="account.name", target=f"organiser:{organiser.id}", detail=name)


def change_password(*, organiser: Organiser, current: str, new: str) -> None:
    """Change the password (the current one is asked for); other sessions end."""
    if not password_matches(organiser.password_hash, current):
        raise OrganiserError("That is not your current password.")
    organiser.password_hash = _checked_password(new)
    sessions.end_sessions(organiser=organiser, keep=organiser.session_key)
    db.session.flush()
    record(action="account.password", target=f"organiser:{organiser.id}")


def email_change_token(organiser: Organiser, new_email: str) -> str:
    """The link token that changes the organiser's address to `new_email`, once."""
    return make_token(EMAIL_CHANGE, organiser.id, f"{_fingerprint(organiser.email)} {new_email}")


def request_email_change(*, organiser: Organiser, new_email: str) -> str:
    """Mail a confirmation link to the new address; the address changes when it is followed."""
    new_email = _checked_email(new_email, organiser=organiser)
    if new_email == organiser.email:
        raise OrganiserError("That is already your email address.")
    token = email_change_token(organiser, new_email)
    mail = render_email(
        "email_change",
        organisation_name=current_settings().organisation_name,
        organiser=organiser,
        new_email=new_email,
        link=external_url("auth.confirm_email", token=token),
        hours=int(EMAIL_CHANGE_LIFETIME.total_seconds() // 3600),
    )
    enqueue(
        build_message(
            to=address(new_email, organiser.name),
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
        ),
        kind="email-change",
    )
    record(action="account.email_requested", target=f"organiser:{organiser.id}", detail=new_email)
    return new_email


def email_change(*, token: str) -> tuple[Organiser, str]:
    """The organiser and new address a confirmation link is for, if it still works."""
    organiser, nonce = _read_link(EMAIL_CHANGE, token, EMAIL_CHANGE_LIFETIME)
    fingerprint, _, new_email = nonce.partition(" ")
    if not organiser.active or fingerprint != _fingerprint(organiser.email) or not new_email:
        raise LinkProblem("This link has been used already.")
    return organiser, new_email


def confirm_email_change(*, token: str) -> Organiser:
    """Change the organiser's address to the one the link was mailed to."""
    organiser, new_email = email_change(token=token)
    old = organiser.email
    organiser.email = _checked_email(new_email, organiser=organiser)
    db.session.flush()
    record(
        action="account.email",
        target=f"organiser:{organiser.id}",
        detail=f"{old} → {new_email}",
        organiser=organiser,
    )
    return organiser


def start_two_factor() -> str:
    """A fresh secret for an organiser about to enrol an authenticator app."""
    return two_factor.new_secret()


def enable_two_factor(*, organiser: Organiser, secret: str, code: str) -> list[str]:
    """Turn two-factor sign-in on once a code from the app checks out; returns recovery codes."""
    step = two_factor.check_enrolment_code(secret=secret, code=code)
    if step is None:
        raise OrganiserError("That code is not right: check the app and try the newest code.")
    codes = two_factor.enable(organiser=organiser, secret=secret, step=step)
    record(action="account.two_factor_on", target=f"organiser:{organiser.id}")
    return codes


def disable_two_factor(*, organiser: Organiser, password: str) -> None:
    """Turn two-factor sign-in off (the password is asked for)."""
    if not password_matches(organiser.password_hash, password):
        raise OrganiserError("That is not your current password.")
    two_factor.disable(organiser=organiser)
    record(action="account.two_factor_off", target=f"organiser:{organiser.id}")


def end_session(*, organiser: Organiser, session_id: int) -> None:
    """End one of the organiser's own sessions."""
    if sessions.end_session(organiser=organiser, session_id=session_id):
        record(
            action="account.session_ended",
            target=f"organiser:{organiser.id}",
            detail=f"session {session_id}",
        )


def end_other_sessions(*, organiser: Organiser) -> int:
    """End every session of the organiser but this one; returns how many."""
    ended = sessions.end_sessions(organiser=organiser, keep=organiser.session_key)
    record(
        action="account.sessions_ended",
        target=f"organiser:{organiser.id}",
        detail=f"{ended} other sessions",
    )
    return ended
