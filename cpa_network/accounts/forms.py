"""Account forms (Flask-WTF: every form carries a CSRF token)."""

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    widgets,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from cpa_network.accounts.services import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH

ROLE_CHOICES = [
    SelectChoice("advertiser", _l("Advertiser — I pay for actions")),
    SelectChoice("publisher", _l("Publisher — I bring customers and earn")),
]
TIMEZONES = sorted(available_timezones())


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class SignupForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    display_name = StringField(_l("Name shown to others"), validators=[Optional(), Length(max=80)])
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(min=PASSWORD_MIN_LENGTH, max=PASSWORD_MAX_LENGTH)],
        description=_l("At least %(n)d characters.", n=PASSWORD_MIN_LENGTH),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords do not match."))],
    )
    roles = MultiCheckboxField(_l("I join as"), choices=ROLE_CHOICES,
                               validators=[DataRequired(message=_l("Choose at least one role."))])
    referral_code = StringField(_l("Invite code"), validators=[Optional(), Length(max=16)])
    # Filled in by static/js/app.js from the browser; changeable later on the profile.
    timezone = HiddenField(validators=[Optional(), Length(max=64)])
    submit = SubmitField(_l("Create account"))


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Remember me"))
    submit = SubmitField(_l("Log in"))


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Name shown to others"), validators=[DataRequired(),
                                                                      Length(max=80)])
    locale = SelectField(_l("Language"), choices=[SelectChoice("en", "English"),
                                                    SelectChoice("ru", "Русский")])
    timezone = SelectField(_l("Time zone"), choices=[SelectChoice(tz) for tz in TIMEZONES])
    submit = SubmitField(_l("Save"))


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"),
                        validators=[DataRequired(), Length(min=PASSWORD_MIN_LENGTH,
                                                           max=PASSWORD_MAX_LENGTH)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(),
                                        EqualTo("new", message=_l("Passwords do not match."))])
    submit = SubmitField(_l("Change password"))


class ApiKeyForm(FlaskForm):
    name = StringField(_l("Key name"), validators=[Optional(), Length(max=80)],
                       description=_l("For example: my tracker, reporting script."))
    scopes = SelectField(_l("Access"), choices=[SelectChoice("read write", _l("Read and write")),
                                                SelectChoice("read", _l("Read only"))])
    submit = SubmitField(_l("Create key"))


class ConfirmForm(FlaskForm):
    """An empty form: a button whose post carries only the CSRF token."""

    submit = SubmitField(_l("Confirm"))
