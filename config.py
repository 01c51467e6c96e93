"""Settings read from the environment: Config for running, TestConfig for the suite."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_SECRET_KEY = "dev-only-secret-key-change-me"


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Settings for development and production, read from the environment."""

    # The flask CLI defaults to development; wsgi.py (gunicorn) defaults to production.
    PLACEEVENTS_ENV = os.environ.get("PLACEEVENTS_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'placeevents.db'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    PLACEEVENTS_BASE_URL = os.environ.get("PLACEEVENTS_BASE_URL", "http://127.0.0.1:5000").rstrip(
        "/"
    )
    PLACEEVENTS_PROXY_COUNT = int(os.environ.get("PLACEEVENTS_PROXY_COUNT", "0"))
    PLACEEVENTS_ORGANISATION = os.environ.get("PLACEEVENTS_ORGANISATION", "The Leadership Centre")
    PLACEEVENTS_PRIVACY_NOTICE = os.environ.get("PLACEEVENTS_PRIVACY_NOTICE", "")
    # Access and dietary answers are blanked this many days after the event ends.
    PLACEEVENTS_PERSONAL_DATA_DAYS = int(os.environ.get("PLACEEVENTS_PERSONAL_DATA_DAYS", "30"))
    # Password hashing: scrypt with N=2**17, r=8, p=1 (about 128 MiB per hash).
    PASSWORD_HASH_METHOD = "scrypt:131072:8:1"

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Total Place 2.0 <enquiry@placeevents.example>"
    )
    # Flask-Mail otherwise suppresses sending whenever app.testing is set.
    MAIL_SUPPRESS_SEND = False
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "30"))
    # A claimed message is another worker's to take once its lease runs out.
    MAIL_LEASE_SECONDS = float(os.environ.get("MAIL_LEASE_SECONDS", "300"))
    MAIL_BATCH_SIZE = int(os.environ.get("MAIL_BATCH_SIZE", "20"))
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", "10"))
    # First retry after about this many seconds, doubling each time up to MAIL_RETRY_MAX_DELAY.
    MAIL_RETRY_DELAY = float(os.environ.get("MAIL_RETRY_DELAY", "60"))
    MAIL_RETRY_MAX_DELAY = float(os.environ.get("MAIL_RETRY_MAX_DELAY", "21600"))
    # Where development writes mail when MAIL_SERVER is unset (default instance/mailbox).
    PLACEEVENTS_MAILBOX_DIR = os.environ.get("PLACEEVENTS_MAILBOX_DIR", "")
    # The worker's longest pause between passes; on PostgreSQL a NOTIFY ends it early.
    WORKER_POLL_SECONDS = float(os.environ.get("WORKER_POLL_SECONDS", "1"))

    # Explicit, never left to the limiter: it keeps the last app's choice as its own default.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Addresses never rate limited (comma separated), e.g. a monitoring probe.
    RATELIMIT_EXEMPT_ADDRESSES = [
        a.strip() for a in os.environ.get("RATELIMIT_EXEMPT_ADDRESSES", "").split(",") if a.strip()
    ]

    # An organiser's session ends after this many hours without a request, and this many days
    # after sign-in whatever happens.
    PLACEEVENTS_SESSION_IDLE_HOURS = float(os.environ.get("PLACEEVENTS_SESSION_IDLE_HOURS", "12"))
    PLACEEVENTS_SESSION_MAX_DAYS = float(os.environ.get("PLACEEVENTS_SESSION_MAX_DAYS", "14"))

    # An open tab keeps working: the token is bound to the session, not to a clock.
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = PLACEEVENTS_BASE_URL.startswith("https://")
    REMEMBER_COOKIE_HTTPONLY = True
    # A form field larger than this is refused with 400 before any view runs.
    MAX_FORM_MEMORY_SIZE = 64 * 1024
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024


class TestConfig(Config):
    """Settings for the test suite: a throwaway database and cheap password hashing."""

    PLACEEVENTS_ENV = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    PLACEEVENTS_BASE_URL = "http://localhost"
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 1
    MAIL_DEFAULT_SENDER = "Total Place 2.0 <enquiry@placeevents.example>"
    MAIL_TIMEOUT = 5.0
    RATELIMIT_STORAGE_URI = "memory://"
    SESSION_COOKIE_SECURE = False
