"""Email addresses as the app checks, compares and stores them."""

import idna
from email_validator import EmailNotValidError, validate_email

EMAIL_LENGTH = 254


def normalise_email(email: str) -> str:
    """Addresses are compared stripped and lower-cased, as the mailing list stores them."""
    return email.strip().lower()


def has_control_characters(text: str) -> bool:
    """Whether text holds line breaks or other control characters (never valid in our fields)."""
    return any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in text)


def email_problem(value: str) -> str | None:
    """Why a value is not an email address we can send to, or None when it is fine."""
    if not value:
        return "Enter your email address."
    if len(value) > EMAIL_LENGTH:
        return f"Use at most {EMAIL_LENGTH} characters."
    if has_control_characters(value):
        return "Enter an email address like name@example.org, without line breaks."
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return "Enter an email address like name@example.org."
    return None


def ascii_domain(domain: str) -> str:
    """A domain as SMTP carries it: an internationalised one as A-labels (xn--…), if it can be."""
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return domain  # left as it is: only a server offering SMTPUTF8 can take it


def wire_address(email: str) -> str:
    """An address as SMTP carries it: its domain as A-labels; a non-ASCII local part needs
    SMTPUTF8 (RFC 6531)."""
    local, at, domain = email.rpartition("@")
    return f"{local}{at}{ascii_domain(domain)}" if at else email
