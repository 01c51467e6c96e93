"""Every page, file and token link of the URL map, asked for with hostile query strings and
hostile tokens and slugs in its path: never a 500, and never a change to the database (GET
never changes state).

The query parameters tried are the ones the site's own links and GET forms use, found by
visiting every page, plus stray ones.
"""

from collections import defaultdict
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.routing import Rule

from tests.test_hostile.conftest import (
    HOSTILE,
    World,
    committed_writes,
    is_organiser_rule,
    log_in,
    odd_text,
    parse_page,
    rules_of,
)

# Path arguments that are text: tokens, slugs, file names.
TEXT_ARGUMENTS = {"token", "slug", "filename", "name"}


def _parameters(app: Flask, world: World, clients: dict[bool, Any]) -> dict[str, set[str]]:
    """For each endpoint, the query parameters the site's links and GET forms send it."""
    adapter = app.url_map.bind("localhost")
    found: dict[str, set[str]] = defaultdict(set)
    for rule in rules_of(app, "GET"):
        for path in world.paths(rule):
            response = clients[is_organiser_rule(rule)].get(path)
            if response.mimetype != "text/html":
                continue
            forms, links = parse_page(response.get_data(as_text=True))
            targets = [(link, None) for link in links]
            targets += [(f.action or path, f) for f in forms if f.method == "get"]
            for address, form in targets:
                parts = urlsplit(address)
                if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
                    continue
                try:
                    endpoint, _ = adapter.match(parts.path, method="GET")
                except Exception:
                    continue
                found[endpoint] |= {k for k, _ in parse_qsl(parts.query)}
                if form is not None:
                    found[endpoint] |= set(form.fields)
    return found


def test_every_page_takes_hostile_queries_and_paths_without_a_500_or_a_write(
    app: Flask, world: World, smtp: Any
) -> None:
    organiser, stranger = app.test_client(), app.test_client()
    log_in(organiser)
    clients = {True: organiser, False: stranger}
    known = _parameters(app, world, clients)
    rules = rules_of(app, "GET")
    assert [r.rule for r in rules if not world.paths(r)] == [], "the world has no value for these"
    assert len(rules) >= 40 and sum(map(len, known.values())) >= 5, (len(rules), dict(known))

    for rule in rules:
        names = sorted(known.get(rule.endpoint, set())) or ["q"]
        _fuzz(app, rule, clients[is_organiser_rule(rule)], world.values(rule)[0], names)


def _fuzz(app: Flask, rule: Rule, client: Any, values: dict[str, Any], names: list[str]) -> None:
    path = rule.build(values, append_unknown=False)[1]
    text_arguments = sorted(TEXT_ARGUMENTS & set(rule.arguments))

    @HOSTILE
    @given(
        query=st.lists(st.tuples(st.one_of(st.sampled_from(names), odd_text), odd_text),
                       max_size=4),
        junk=st.one_of(st.none(), odd_text.filter(lambda t: 0 < len(t) < 3000)),
        method=st.sampled_from(["GET", "HEAD"]),
    )  # fmt: skip
    def attempt(query: list[tuple[str, str]], junk: str | None, method: str) -> None:
        target = path
        if text_arguments and junk is not None:
            target = rule.build({**values, text_arguments[0]: junk}, append_unknown=False)[1]
        if query:
            target += "?" + urlencode([(k.encode(), v.encode()) for k, v in query])
        with committed_writes(app) as writes:
            response = client.open(target, method=method)
        assert response.status_code < 500, (method, target)
        assert writes == [], (method, target, writes)

    attempt()
