"""The organiser login form."""

from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Length

from placeevents.forms import Form


class LoginForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField("Log in")
