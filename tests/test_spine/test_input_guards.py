"""Hostile input gets a clear message and a 4xx, never a 500: control characters in any text
field."""

import importlib
from collections.abc import Iterator
from pathlib import Path

from flask import Flask
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import EmailField, PasswordField, StringField, TextAreaField

from placeevents.forms import Form
from placeevents.text import CONTROL_CHARACTERS_MESSAGE, multiline, one_line

PACKAGE = Path(__file__).resolve().parents[2] / "placeevents"


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
