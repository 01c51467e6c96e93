"""Two-factor sign-in: time-based codes from an authenticator app (RFC 6238), recovery codes.

A code is accepted once: its time step is recorded, and that step or an earlier one is refused
afterwards, so a code seen over someone's shoulder cannot be replayed within its window.
"""

import hashlib
import hmac
import secrets

import pyotp
import segno
from markupsafe import Markup
from sqlalchemy import delete, select

from placeevents.auth.models import Organiser, RecoveryCode
from placeevents.clock import utcnow
from placeevents.extensions import db

ISSUER = "placeevents"
STEP_SECONDS = 30
# A code from the step before or after is accepted too: clocks drift and typing takes time.
VALID_WINDOW = 1
RECOVERY_CODES = 10


def new_secret() -> str:
    """A fresh base32 TOTP secret."""
    return pyotp.random_base32()


def provisioning_uri(*, secret: str, email: str, issuer: str) -> str:
    """The otpauth:// link an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer or ISSUER)


def qr_code_svg(uri: str) -> Markup:
    """The link as a QR code in inline SVG, rendered here so the secret never leaves the page."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#1d1d1b", light="#ffffff")
    return Markup(svg)


def _normalised(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def matching_step(secret: str, code: str) -> int | None:
    """The time step near now whose code this is, or None."""
    code = _normalised(code)
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = int(utcnow().timestamp()) // STEP_SECONDS
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def check_enrolment_code(*, secret: str, code: str) -> int | None:
    """The time step of a code typed while enrolling, or None when it is wrong."""
    return matching_step(secret, code)


def enable(*, organiser: Organiser, secret: str, step: int) -> list[str]:
    """Turn two-factor sign-in on with this secret; returns ten fresh recovery codes."""
    organiser.totp_secret = secret
    organiser.totp_last_step = step
    return new_recovery_codes(organiser=organiser)


def disable(*, organiser: Organiser) -> None:
    """Turn two-factor sign-in off and forget its secret and recovery codes."""
    organiser.totp_secret = None
    organiser.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.organiser_id == organiser.id))
    db.session.flush()


def _hash(code: str) -> str:
    return hashlib.sha256(_normalised(code).encode()).hexdigest()


def new_recovery_codes(*, organiser: Organiser) -> list[str]:
    """Replace the organiser's recovery codes with ten new ones, returned once (hashes kept)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.organiser_id == organiser.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(organiser_id=organiser.id, code_hash=_hash(c)) for c in codes)
    db.session.flush()
    return codes


def unused_recovery_codes(*, organiser: Organiser) -> int:
    """How many recovery codes the organiser has left."""
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.organiser_id == organiser.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def verify(*, organiser: Organiser, code: str) -> str | None:
    """Check a sign-in code: "app" or "recovery" for the kind accepted, None when refused.

    An app code is refused if its time step was used already; a recovery code works once.
    """
    if not organiser.totp_secret:
        return None
    step = matching_step(organiser.totp_secret, code)
    if step is not None:
        if organiser.totp_last_step is not None and step <= organiser.totp_last_step:
            return None
        organiser.totp_last_step = step
        db.session.flush()
        return "app"
    row = db.session.scalar(
        select(RecoveryCode)
        .where(
            RecoveryCode.organiser_id == organiser.id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .with_for_update()
    )
    if row is None:
        return None
    row.used_at = utcnow()
    db.session.flush()
    return "recovery"
