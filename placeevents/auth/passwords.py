"""The password rules: 12 to 1024 characters, no composition rules, none of the common ones.

common-passwords.txt.gz is the list of 20,000 common passwords that Django ships (BSD licence;
compiled by Royce Williams from leaked password lists), lower-cased, one a line.
"""

import gzip
from functools import cache
from pathlib import Path

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 12
MAX_LENGTH = 1024
COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt.gz")


class PasswordRefused(ValueError):
    """The password breaks a rule; the message says which, fit to show."""


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def check_password_rules(password: str) -> None:
    """Raise PasswordRefused unless the password is long enough and not a common one."""
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(f"Use a password of at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(f"Use a password of at most {MAX_LENGTH} characters.")
    if password.strip().lower() in common_passwords():
        raise PasswordRefused("That password is on a list of common passwords: choose another.")


def hash_password(password: str) -> str:
    """The password's hash with the configured parameters (scrypt)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def password_matches(password_hash: str, password: str) -> bool:
    """Whether the password is the one hashed; an account without a password matches nothing."""
    if not password_hash:
        check_password_hash(dummy_hash(), password)
        return False
    return check_password_hash(password_hash, password)


_DUMMY: dict[str, str] = {}


def dummy_hash() -> str:
    """A hash to check against when there is no account, so the time taken reveals nothing."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY:
        _DUMMY[method] = generate_password_hash("not-a-password", method=method)
    return _DUMMY[method]
