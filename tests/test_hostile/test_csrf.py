"""With CSRF protection on, as in production: every form that carries a CSRF token refuses a
post without it or with a wrong one, clearly and without changing anything; every organiser
form carries one (the public forms are guarded by their link's token or by the browser's
Origin, tests/test_spine/test_public_forms.py)."""

from typing import Any

from flask import Flask
from werkzeug.datastructures import MultiDict

from tests.test_hostile.conftest import (
    build_world,
    changed_tables,
    committed_writes,
    find_form,
    is_organiser_rule,
    log_in,
    rules_of,
    snapshot,
)


def test_every_form_with_a_csrf_token_refuses_a_post_without_the_right_one(
    csrf_app: Flask, smtp: Any
) -> None:
    with csrf_app.app_context():
        world = build_world()
    organiser, stranger = csrf_app.test_client(), csrf_app.test_client()
    log_in(organiser)
    smtp.clear()  # the world's own invitation, delivered after the first request
    protected = 0
    for rule in rules_of(csrf_app, "POST"):
        client = organiser if is_organiser_rule(rule) else stranger
        found = find_form(csrf_app, world, rule, client)
        assert found is not None, rule.rule
        _, action, form = found
        if "csrf_token" not in form.fields:
            assert not is_organiser_rule(rule), f"{rule.rule}: an organiser form without CSRF"
            continue
        protected += 1
        sent = [(k, v) for k, v in form.defaults() if k != "csrf_token"]
        for token in ([], [("csrf_token", "forged")]):
            before = snapshot(csrf_app)
            with committed_writes(csrf_app) as writes:
                response = client.post(action, data=MultiDict(sent + token))
            assert writes == [], (rule.rule, writes)
            assert response.status_code == 400, (rule.rule, token, response.status_code)
            assert "expired or was sent from elsewhere" in response.get_data(as_text=True)
            assert changed_tables(before, snapshot(csrf_app)) == [], rule.rule
    assert not smtp.messages
    assert protected >= 40, protected
