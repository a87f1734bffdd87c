"""Language and time zone: chosen by the user, remembered in the session and the profile."""

import functools

from babel import Locale
from flask import (
    Blueprint,
    current_app,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField

from cpa_network.extensions import db
from cpa_network.security import referrer_path

bp = Blueprint("i18n", __name__)


class LanguageForm(FlaskForm):
    locale = HiddenField()


def select_locale() -> Locale:
    """The user's saved language, else the session's, else the browser's best match."""
    return _parsed_locale(_locale_code())


@functools.cache
def _parsed_locale(code: str) -> Locale:
    """Flask-Babel parses what the selector returns on every request (about 20 µs, a percent of
    a postback) unless it is a Locale already: each language is parsed once."""
    return Locale.parse(code)


def _locale_code() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI and jobs speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return (request.accept_languages.best_match(list(languages))
            or current_app.config["BABEL_DEFAULT_LOCALE"])


def select_timezone() -> str:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.timezone or "UTC"
    return "UTC"


@bp.route("/language", methods=["POST"])
def switch_language():
    """The language switch in the footer: a CSRF-protected post, then back where you were."""
    form = LanguageForm()
    locale = form.locale.data if form.validate_on_submit() else None
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
            db.session.commit()
    return redirect(referrer_path(url_for("pages.home")))
