"""Hostile input gets a clear message and a 4xx, never a 500: control characters in any text
field, and ids too large for the database in any path, query string or form."""

import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import EmailField, PasswordField, StringField, TextAreaField

from placeevents.forms import Form
from placeevents.ids import MAX_ID, IdConverter
from placeevents.text import CONTROL_CHARACTERS_MESSAGE, multiline, one_line

PACKAGE = Path(__file__).resolve().parents[2] / "placeevents"
TOO_LARGE = MAX_ID + 1  # one past PostgreSQL's INTEGER
PAST_BIGINT = 2**63  # 9223372036854775808: past SQLite's INTEGER too


def _form_classes() -> Iterator[type[FlaskForm]]:
    for path in sorted(PACKAGE.glob("*/forms.py")):
        module = importlib.import_module(f"placeevents.{path.parent.name}.forms")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, FlaskForm)
                and value.__module__ == module.__name__
            ):
                yield value


def test_text_is_cleaned_to_one_line_or_several() -> None:
    assert one_line("Ann\x07 Ex\tam\r\nple\x9b") == "Ann Ex am ple"
    assert one_line("Zoë Ünïcode") == "Zoë Ünïcode"
    assert multiline("One\r\ntwo\rthree\x0b\tfour\x00\x85") == "One\ntwo\nthree\tfour"


def test_every_form_checks_every_text_field(app: Flask) -> None:
    classes = list(_form_classes())
    assert len(classes) > 20
    checked = 0
    for form_class in classes:
        assert issubclass(form_class, Form), f"{form_class.__qualname__} is not a placeevents Form"
        fields = list(form_class())
        typed = MultiDict({field.name: "A\x07\tB\r\nC" for field in fields})
        form = form_class(formdata=typed)
        for field in form:
            where = f"{form_class.__qualname__}.{field.name}"
            if isinstance(field, TextAreaField):
                assert field.data == "A\tB\nC", where
                checked += 1
            elif isinstance(field, StringField) and not isinstance(
                field, (EmailField, PasswordField)
            ):
                form.validate()
                assert CONTROL_CHARACTERS_MESSAGE in field.errors, where
                checked += 1
    assert checked > 30


def test_a_single_line_field_is_trimmed_by_its_own_filter_first(app: Flask) -> None:
    from placeevents.newsletter.forms import SignupForm

    form = SignupForm(formdata=MultiDict({"name": " Ada Lovelace\n", "email": "a@example.org"}))
    form.validate()
    assert form.name.data == "Ada Lovelace" and form.name.errors == []


# --- ids


# A position in a dev-mailbox message, not a row: it never reaches the database.
NOT_ROW_NUMBERS = {("mail.mailbox_part", "index")}


def _numbered_rules(app: Flask) -> list[Any]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if any(hasattr(c, "num_convert") for c in rule._converters.values())
    ]


def test_every_number_in_a_path_is_a_bounded_id(app: Flask) -> None:
    rules = _numbered_rules(app)
    assert len(rules) > 40
    for rule in rules:
        for name, converter in rule._converters.items():
            if hasattr(converter, "num_convert") and (rule.endpoint, name) not in NOT_ROW_NUMBERS:
                assert isinstance(converter, IdConverter), f"{rule.rule}: <int:{name}>"


@pytest.mark.parametrize("bad", [TOO_LARGE, PAST_BIGINT, 0, int("9" * 26)])
def test_an_id_out_of_range_in_any_path_is_not_found(
    app: Flask, logged_in: FlaskClient, make_event: Any, bad: int
) -> None:
    # Real rows with id 1 stand beside the bad id, so only the bad one can miss.
    make_event()
    for rule in _numbered_rules(app):
        numbered = {n for n, c in rule._converters.items() if hasattr(c, "num_convert")}
        for wrong in sorted(numbered):
            values = {name: 1 if name in numbered else "x" for name in rule.arguments}
            path = rule.build({**values, wrong: bad}, append_unknown=False)[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = logged_in.open(path, method=method)
                assert response.status_code == 404, (method, path, response.status_code)


def test_the_id_pattern_matches_exactly_the_ids_a_row_can_have() -> None:
    pattern = re.compile(IdConverter.regex)
    for good in (1, 9, 10, 999_999_999, 2_147_483_639, MAX_ID):
        assert pattern.fullmatch(str(good)), good
    for bad in ("0", "01", str(TOO_LARGE), str(PAST_BIGINT), "9" * 10, "1" + "0" * 10, "-1"):
        assert not pattern.fullmatch(bad), bad


@pytest.mark.parametrize(
    "bad", [str(TOO_LARGE), str(PAST_BIGINT), "0", "-3", "9" * 26, "9" * 5000]
)
def test_an_id_out_of_range_in_a_query_string_or_form_is_refused(
    logged_in: FlaskClient, make_event: Any, bad: str
) -> None:
    event = make_event()
    assert logged_in.get(f"/manage/events/new?enquiry={bad}").status_code == 404
    check_in = logged_in.get(f"/manage/exports/events/{event.id}/check-in?overbook={bad}")
    assert check_in.status_code == 200
    remind = logged_in.post(
        f"/manage/invitations/events/{event.id}/remind", data={"invitations": [bad]}
    )
    assert remind.status_code == 302
    share = logged_in.post(f"/manage/notes/events/{event.id}/share", data={"note_id": bad})
    assert share.status_code == 400
    note = logged_in.post(
        f"/manage/notes/events/{event.id}/new",
        data={"title": "T", "kind": "summary", "attribution": "attributed",
              "visibility": "private", "questions": [bad]},
    )  # fmt: skip
    assert note.status_code == 422
    for listing in ("/manage/audit/", "/manage/newsletter/"):
        assert logged_in.get(f"{listing}?page={bad}").status_code in (200, 422)
