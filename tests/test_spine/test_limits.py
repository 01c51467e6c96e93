"""The table of rate limits (placeevents/limits.py): what each counts, and where counts live.

Login limits are tested in test_auth.py, the signup ones in test_newsletter/test_signup.py.
"""

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents import limits
from placeevents.extensions import db
from placeevents.invitations.links import rsvp_token
from placeevents.invitations.models import Invitation, InvitationSource, Rsvp, RsvpAnswer
from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parents[2]
OFFICE = {"REMOTE_ADDR": "198.51.100.20"}
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def _invitations(event: Any, count: int) -> list[str]:
    invitations = [
        Invitation(
            event=event,
            email=f"colleague{n}@example.org",
            name=f"Colleague {n}",
            source=InvitationSource.PASTED,
        )
        for n in range(count)
    ]
    db.session.add_all(invitations)
    db.session.commit()
    return [f"/rsvp/{rsvp_token(invitation)}" for invitation in invitations]


def test_fifty_colleagues_behind_one_office_address_each_answer(
    app: Flask, make_event: Callable[..., Any], smtp: Any
) -> None:
    paths = _invitations(make_event(capacity=None), 50)
    client = app.test_client()
    client.delivering = False  # type: ignore[attr-defined]
    for path in paths:
        assert client.get(path, environ_base=OFFICE).status_code == 200
        assert client.post(path, data={"answer": "yes"}, environ_base=OFFICE).status_code == 302
    answers = db.session.scalars(select(Rsvp.answer).join(Invitation)).all()
    assert answers == [RsvpAnswer.YES] * 50


def test_one_personal_link_has_its_own_limit(
    app: Flask, make_event: Callable[..., Any], smtp: Any
) -> None:
    mine, colleagues = _invitations(make_event(), 2)
    client = app.test_client()
    client.delivering = False  # type: ignore[attr-defined]
    answers = ["yes", "no"] * 16
    statuses = [client.post(mine, data={"answer": a}).status_code for a in answers[:31]]
    assert statuses == [302] * 30 + [429]
    assert client.post(colleagues, data={"answer": "yes"}).status_code == 302


def test_links_that_do_not_work_are_limited_per_client(app: Flask) -> None:
    guesser = app.test_client()
    statuses = [guesser.get(f"/rsvp/guess-{n}").status_code for n in range(61)]
    assert statuses == [404] * 60 + [429]
    assert guesser.get("/notes/guess").status_code == 429  # one count for every kind of link
    assert app.test_client().get("/rsvp/guess", environ_base=OFFICE).status_code == 404


def test_fresh_link_requests_for_one_address_count_together(app: Flask, smtp: Any) -> None:
    def ask(path: str, n: int) -> int:
        return (
            app.test_client()
            .post(
                path,
                data={"email": "ada@example.org"},
                environ_base={"REMOTE_ADDR": f"203.0.113.{n}"},
            )
            .status_code
        )

    forms = ["/newsletter/fresh-link", "/rsvp/fresh-link"] * 3
    statuses = [ask(path, n) for n, path in enumerate(forms[:5])]
    assert 429 not in statuses[:3]  # three an hour for an address, from either form
    assert statuses[3:] == [429, 429]


def test_organiser_sends_are_limited_per_organiser_and_previews_are_free(
    app: Flask, logged_in: FlaskClient, make_event: Callable[..., Any]
) -> None:
    event = make_event()
    invite = f"/manage/invitations/events/{event.id}/invite"
    previews = [logged_in.post(invite, data={"action": "preview"}).status_code for _ in range(31)]
    assert 429 not in previews
    remind = f"/manage/invitations/events/{event.id}/remind"
    statuses = [logged_in.post(remind).status_code for _ in range(31)]
    assert statuses == [302] * 30 + [429]


def _readme_rows() -> list[str]:
    """The rows of the README's table of rate limits, below its header and rule."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Rate limits\n", 1)[1].split("\n## ", 1)[0]
    table = [" ".join(line.split()) for line in section.splitlines() if line.startswith("|")]
    return table[2:]


def test_the_readme_table_is_the_table_in_the_code() -> None:
    expected = [
        f"| {purpose.name} | {limit.rate.replace(';', ', ')} | {limit.per} | {limit.counts} |"
        for purpose in limits.TABLE
        for limit in purpose.limits
    ]
    assert _readme_rows() == expected


# A second process with its own app, signing up the same address twice.
SECOND_PROCESS = """
import json, sys
from placeevents import create_app
config, data = json.loads(sys.argv[1]), json.loads(sys.argv[2])
client = create_app(config).test_client()
print(json.dumps([client.post("/newsletter/signup", data=data).status_code for _ in range(2)]))
"""


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.mark.parametrize(
    ("storage", "after_the_other_process"),
    [pytest.param("redis", 429, marks=pytest.mark.redis), ("memory://", 200)],
)
def test_processes_share_counts_through_redis_and_keep_their_own_in_memory(
    make_app: Callable[..., Flask], smtp: Any, storage: str, after_the_other_process: int
) -> None:
    if storage == "redis":
        require_tool(_redis_available(), f"Redis at {REDIS_URL}")
        storage = REDIS_URL
    # Fresh counts, whatever earlier runs left in the shared store: the per-client count of
    # signups lasts an hour, and every run comes from the same test client address.
    prefix = f"test-{uuid.uuid4().hex}"
    app = make_app(RATELIMIT_STORAGE_URI=storage, RATELIMIT_KEY_PREFIX=prefix)
    data = {
        "signup-name": "Ada Lovelace",
        "signup-email": f"ada-{uuid.uuid4().hex}@example.org",
        "signup-wants_news": "y",
    }
    client = app.test_client()
    assert [client.post("/newsletter/signup", data=data).status_code for _ in range(3)] == [200] * 3

    config = {
        "PLACEEVENTS_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_KEY_PREFIX": prefix,
    }
    other = subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS, json.dumps(config), json.dumps(data)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(other.stdout.strip().splitlines()[-1]) == [200, 200]
    # Five signups of one address an hour, counted in one place or in each process.
    assert client.post("/newsletter/signup", data=data).status_code == after_the_other_process


def test_every_limited_view_takes_its_limits_from_the_table() -> None:
    # No view states a limit of its own: every `limiter.limit` call is in placeevents/limits.py.
    own_limit = re.compile(r"limiter\.(limit|shared_limit)\(")
    stray = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "placeevents").rglob("*.py")
        if path.name != "limits.py" and own_limit.search(path.read_text(encoding="utf-8"))
    ]
    assert stray == []


def test_an_app_with_limits_off_leaves_the_next_app_limited(
    make_app: Callable[..., Flask], smtp: Any
) -> None:
    # The limiter is shared by every app and used to keep the last one's setting as its default.
    make_app(RATELIMIT_ENABLED=False)
    limited = make_app()
    client = limited.test_client()
    statuses = [client.get("/rsvp/not-a-token").status_code for _ in range(61)]
    assert statuses[-1] == 429
