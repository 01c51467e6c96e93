"""Forms of sign-in, the team pages and the organiser's own account."""

from wtforms import EmailField, PasswordField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from placeevents.auth.models import Role
from placeevents.auth.passwords import MAX_LENGTH
from placeevents.forms import Form

ROLE_CHOICES = [
    SelectChoice(Role.ORGANISER.value, "Organiser: enquiries, events, invitations, notes, exports"),
    SelectChoice(Role.ADMIN.value, "Admin: all of that, and the team and the settings"),
]


class LoginForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)])
    submit = SubmitField("Log in")


class CodeForm(Form):
    code = StringField(
        "Code from your authenticator app, or a recovery code",
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True},
    )


class ForgotPasswordForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])


class NewPasswordForm(Form):
    password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "The new password again",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class JoinForm(NewPasswordForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=200)])


class InviteForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    role = RadioField("Role", choices=ROLE_CHOICES, default=Role.ORGANISER.value)


class RoleForm(Form):
    role = RadioField("Role", choices=ROLE_CHOICES, validators=[DataRequired()])


class NameForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])


class EmailChangeForm(Form):
    email = EmailField("New email address", validators=[DataRequired(), Length(max=254)])


class PasswordChangeForm(NewPasswordForm):
    current = PasswordField(
        "Current password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class EnableTwoFactorForm(Form):
    code = StringField(
        "Code shown by the app",
        validators=[DataRequired(), Length(max=10)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class DisableTwoFactorForm(Form):
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=MAX_LENGTH)])


class ConfirmForm(Form):
    """A button and nothing else: the POST that a link's page asks for."""
