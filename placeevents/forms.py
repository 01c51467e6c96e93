"""The base of every form: text fields checked for control characters, ids kept in range."""

from typing import Any

from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import EmailField, IntegerField, PasswordField, StringField, TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.widgets import HiddenInput

from placeevents import text
from placeevents.addresses import has_control_characters
from placeevents.ids import row_id


def _one_line(value: Any) -> Any:
    # A filter's ValueError becomes the field's error, shown beside it.
    if isinstance(value, str) and has_control_characters(value):
        raise ValueError(text.CONTROL_CHARACTERS_MESSAGE)
    return value


def _multiline(value: Any) -> Any:
    return text.multiline(value) if isinstance(value, str) else value


def _boundary_filter(field_class: type) -> Any:
    if issubclass(field_class, TextAreaField):
        return _multiline
    # An address or a password must be exactly what was typed: their own validators judge them.
    if issubclass(field_class, StringField) and not issubclass(
        field_class, (EmailField, PasswordField)
    ):
        return _one_line
    return None


class Form(FlaskForm):
    """A form whose text fields refuse (one line) or strip (several lines) control characters.

    The check runs after the field's own filters and before its validators.
    """

    class Meta:
        def bind_field(self, form: Any, unbound_field: UnboundField, options: dict) -> Any:
            check = _boundary_filter(unbound_field.field_class)
            if check is not None:
                options = {**options, "filters": [*unbound_field.kwargs.get("filters", ()), check]}
            return unbound_field.bind(form=form, **options)


    def hidden_tag(self, *fields: Any) -> Markup:
        """The hidden fields (the CSRF token among them) without ids: a page often holds several
        forms, and an id may appear only once in a document."""
        chosen = [getattr(self, f, None) if isinstance(f, str) else f for f in fields or self]
        return Markup("\n".join(
            str(f(id=False)) for f in chosen if f is not None and isinstance(f.widget, HiddenInput)
        ))  # fmt: skip


class IdField(IntegerField):
    """A row id sent back by a form: 1 to 2**31-1 (see placeevents.ids), else a form error."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        try:
            self.data = row_id(valuelist[0])
        except ValueError as exc:
            self.data = None
            raise ValueError("Not a valid id.") from exc
