"""Signed, purpose-bound tokens for public links: nothing stored can be replayed as a link."""

import functools
import hashlib
import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from placeevents.clock import timestamp


class InvalidToken(Exception):
    """The token is tampered, meant for another purpose, or unknown."""


class ExpiredToken(InvalidToken):
    """The token was genuine but is too old."""


class _ClockSerializer(URLSafeTimedSerializer):
    # Expiry reads the app's one clock, so tests can freeze it.
    def get_timestamp(self) -> int:
        return timestamp()


@dataclass(frozen=True)
class TokenData:
    """What a valid token names: a row and the nonce it was signed with."""

    row_id: int
    nonce: str


def new_nonce() -> str:
    """A fresh per-row nonce; rotating it invalidates every link made with the old one."""
    return secrets.token_urlsafe(12)


def _serializer(purpose: str) -> _ClockSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"], purpose)


# One per key and purpose: a bulk send signs thousands of links.
@functools.lru_cache(maxsize=64)
def _serializer_for(secret_key: str | bytes, purpose: str) -> _ClockSerializer:
    return _ClockSerializer(
        secret_key,
        salt=f"placeevents.{purpose}",
        signer_kwargs={"digest_method": hashlib.sha256},
    )


def make_token(purpose: str, row_id: int, nonce: str) -> str:
    """Sign a link token for one purpose over the row id and its nonce."""
    return _serializer(purpose).dumps([purpose, row_id, nonce])


def kept_token(purpose: str, row_id: int, nonce: str) -> str:
    """make_token, signed once per process for each key, purpose, row and nonce and then given
    again: for a link shown on every view of a page. Only for purposes read without a max_age,
    the one check that reads when a token was signed."""
    return _kept_token(current_app.config["SECRET_KEY"], purpose, row_id, nonce)


@functools.lru_cache(maxsize=4096)
def _kept_token(secret_key: str | bytes, purpose: str, row_id: int, nonce: str) -> str:
    return _serializer_for(secret_key, purpose).dumps([purpose, row_id, nonce])


def read_token(purpose: str, token: str, max_age: int | None = None) -> TokenData:
    """Check a token's signature, purpose and age; the caller checks the nonce against the row."""
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise ExpiredToken("this link has expired") from exc
    except BadSignature as exc:
        raise InvalidToken("this link is not valid") from exc
    if (
        not isinstance(payload, list)
        or len(payload) != 3
        or payload[0] != purpose
        or not isinstance(payload[1], int)
        or not isinstance(payload[2], str)
    ):
        raise InvalidToken("this link is not valid")
    return TokenData(row_id=payload[1], nonce=payload[2])
