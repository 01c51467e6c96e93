"""Every form the site shows, sent hostile values: never a 500; a refusal is a clear 4xx page
and leaves every table as it was, with no mail sent.

The forms are found from the URL map (tests/test_hostile/conftest.py): each rule that takes a
POST is built with the world's ids and tokens and its form looked for on the site's pages.
"""

import io
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from placeevents import create_app
from tests.test_hostile.conftest import (
    HOSTILE,
    PageForm,
    World,
    changed_tables,
    committed_writes,
    find_form,
    is_organiser_rule,
    log_in,
    odd_text,
    rules_of,
    snapshot,
)

# The rules themselves, read from an app's URL map (no database needed for that).
POST_RULES = [
    f"{rule.endpoint} {rule.rule}"
    for rule in rules_of(create_app({"PLACEEVENTS_ENV": "testing"}), "POST")
]


def _values(form: PageForm) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Each field missing, sent once or twice, sane or hostile; sometimes a stray field."""
    per_field = []
    for f in form.fields.values():
        if f.kind == "file":
            continue
        sane = [f.value, *f.options] if f.value or f.options else [""]
        one = st.one_of(st.sampled_from(sane), odd_text)
        per_field.append(
            st.one_of(
                one.map(lambda v, n=f.name: [(n, v)]),
                st.just([]),
                st.lists(one, min_size=2, max_size=2).map(
                    lambda vs, n=f.name: [(n, v) for v in vs]
                ),
            )
        )
    stray = st.one_of(st.just([]), st.tuples(odd_text, odd_text).map(lambda kv: [kv]))
    return st.tuples(*per_field, stray).map(lambda parts: [kv for part in parts for kv in part])


# How the fields travel: as a browser sends them, with invalid UTF-8, as multipart, as JSON
# (which no form reads), or buried among more fields than the server parses.
SHAPES = ["form", "form", "broken-utf8", "multipart", "json", "many-fields"]


def _request(pairs: list[tuple[str, str]], shape: str) -> dict[str, Any]:
    """Keyword arguments for the test client's post()."""
    if shape == "multipart":
        return {"data": MultiDict(pairs), "content_type": "multipart/form-data"}
    if shape == "json":
        return {"json": dict(pairs)}
    if shape == "many-fields":
        pairs = pairs + [(f"f{n}", "x") for n in range(2000)]
    # Invalid UTF-8: a lone continuation byte and a truncated sequence after each value.
    tail = b"\x80\xc3" if shape == "broken-utf8" else b""
    body = urlencode([(k.encode(), v.encode() + tail) for k, v in pairs]).encode()
    return {"data": body, "content_type": "application/x-www-form-urlencoded"}


def _explains(page: str, status: int) -> bool:
    """The error page, or the form again with its errors said beside the fields or above."""
    return "<h1" in page or 'class="error' in page or 'role="alert"' in page


def _rule(app: Flask, key: str) -> Any:
    endpoint, path = key.split(" ", 1)
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == path)


@pytest.mark.parametrize("key", POST_RULES)
def test_a_form_refuses_hostile_input_cleanly(
    app: Flask, world: World, smtp: Any, key: str
) -> None:
    rule = _rule(app, key)
    client = app.test_client()
    if is_organiser_rule(rule):
        log_in(client)
    found = find_form(app, world, rule, client)
    assert found is not None, f"no page shows a form posting to {rule.rule}"
    page, action, form = found
    multipart = form.enctype == "multipart/form-data"
    values = next(v for v in world.values(rule) if rule.build(v)[1] == urlsplit(action).path)
    text_arguments = sorted({"token", "slug"} & set(rule.arguments))

    @HOSTILE
    @given(
        pairs=_values(form),
        shape=st.sampled_from(SHAPES),
        upload=st.binary(max_size=300),
        path_junk=st.one_of(st.none(), odd_text.filter(lambda t: 0 < len(t) < 3000)),
    )
    def attempt(
        pairs: list[tuple[str, str]], shape: str, upload: bytes, path_junk: str | None
    ) -> None:
        target = action
        if text_arguments and path_junk is not None:
            target = rule.build({**values, text_arguments[0]: path_junk})[1]
        before, sent = snapshot(app), len(smtp.messages)
        with committed_writes(app) as writes:
            if multipart:
                files = [(f.name, (io.BytesIO(upload), "people.csv"))
                         for f in form.fields.values() if f.kind == "file"]  # fmt: skip
                response = client.post(target, data=MultiDict(pairs + files))
            else:
                response = client.post(target, **_request(pairs, shape))
        status = response.status_code
        assert status < 500, (target, pairs, response.get_data(as_text=True)[:2000])
        if 300 <= status < 400:
            # What was accepted is stored: the page it leads to must still show it.
            location = urlsplit(response.headers["Location"])
            if location.netloc in ("", "localhost"):
                shown = client.get(location.path + (f"?{location.query}" if location.query else ""))
                assert shown.status_code < 500, (target, pairs, location)
            assert client.get(page).status_code < 500, (target, pairs, page)
        if status >= 400:
            html = response.get_data(as_text=True)
            assert response.mimetype == "text/html" and _explains(html, status), (status, html)
            assert writes == [] and changed_tables(before, snapshot(app)) == [], (status, pairs)
            assert len(smtp.messages) == sent, (status, pairs)

    attempt()


def test_every_form_is_found(app: Flask, world: World) -> None:
    organiser = app.test_client()
    log_in(organiser)
    stranger = app.test_client()
    rules = rules_of(app, "POST")
    fields = 0
    for rule in rules:
        found = find_form(app, world, rule, organiser if is_organiser_rule(rule) else stranger)
        assert found is not None, rule.rule
        fields += len([f for f in found[2].fields if f != "csrf_token"])
    # Floors, so a change that hides forms from the search shows up here.
    assert len(rules) >= 50 and fields >= 120, (len(rules), fields)
