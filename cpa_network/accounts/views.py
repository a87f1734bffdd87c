"""Sign-up, login, logout, profile, API keys, invite links. Thin: forms in, services, flash out."""

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from cpa_network.accounts import services
from cpa_network.accounts.forms import (
    ApiKeyForm,
    ConfirmForm,
    LoginForm,
    PasswordForm,
    ProfileForm,
    SignupForm,
)
from cpa_network.accounts.models import ApiKey
from cpa_network.errors import DomainError
from cpa_network.extensions import db, limiter
from cpa_network.jobs import enqueue_after_commit
from cpa_network.notifications.tasks import notify_upline_of_signup
from cpa_network.security import safe_local_url

bp = Blueprint("accounts", __name__)

INVITE_SESSION_KEY = "invite_code"


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _signup_limit() -> str:
    return current_app.config["RATELIMIT_SIGNUP"]


def _login_account_key() -> str:
    """Rate-limit key per attacked account, so a botnet cannot spread guesses over IPs."""
    return "login:" + services.normalize_email(request.form.get("email", ""))


def _password_check_key() -> str:
    """Guesses at the current password on /account/password count per account, like logins:
    a stolen session must not be a way to brute-force the password."""
    return f"password:{current_user.get_id()}"


def _start_session(user, remember: bool) -> None:
    session.clear()  # a fresh session at login: nothing carried over from before
    login_user(user, remember=remember)
    if user.locale:
        session["locale"] = user.locale


@bp.route("/r/<code>")
def invite(code: str):
    """An invite link: remember the code and send the visitor to sign up."""
    upline = services.user_by_referral_code(code)
    if upline is None or upline.is_blocked:
        flash(_("This invite link is not valid any more. You can still sign up."), "warning")
        return redirect(url_for("accounts.signup"))
    session[INVITE_SESSION_KEY] = upline.referral_code
    return redirect(url_for("accounts.signup"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("pages.dashboard"))
    form = SignupForm()
    invite_code = session.get(INVITE_SESSION_KEY)
    if request.method == "GET":
        form.referral_code.data = invite_code
        form.roles.data = ["publisher"] if invite_code else []
    if form.validate_on_submit():
        try:
            user = services.register_user(services.SignUp(
                email=form.email.data, password=form.password.data, roles=tuple(form.roles.data),
                display_name=form.display_name.data or "",
                referral_code=form.referral_code.data or None,
                locale=session.get("locale"), timezone=form.timezone.data,
            ))
        except services.EmailTaken as error:
            form.email.errors.append(error.message)
        except services.WeakPassword as error:
            form.password.errors.append(error.message)
        except services.UnknownReferrer as error:
            form.referral_code.errors.append(error.message)
        else:
            if user.referred_by_id:
                enqueue_after_commit(notify_upline_of_signup, user.id, queue="notifications")
            db.session.commit()
            _start_session(user, remember=False)
            flash(_("Welcome! Your account is ready."), "success")
            return redirect(url_for("pages.dashboard"))
    upline = services.user_by_referral_code(invite_code) if invite_code else None
    return render_template("accounts/signup.html", form=form, upline=upline)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_account_key)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("pages.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except DomainError as error:
            flash(error.message, "danger")
        else:
            db.session.commit()
            _start_session(user, remember=form.remember.data)
            target = safe_local_url(request.args.get("next"), url_for("pages.dashboard"))
            return redirect(target)
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    services.end_sessions(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("pages.home"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        current_user.display_name = form.display_name.data.strip()
        current_user.locale = form.locale.data
        current_user.timezone = form.timezone.data
        db.session.commit()
        session["locale"] = current_user.locale
        flash(_("Profile saved."), "success")
        return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=form, password_form=PasswordForm(),
                           logout_form=ConfirmForm())


@bp.route("/account/password", methods=["POST"])
@login_required
@limiter.limit(_login_limit, key_func=_password_check_key)
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current.data, form.new.data)
        except DomainError as error:
            form.new.errors.append(error.message)
        else:
            db.session.commit()
            # Re-issue this session under the new version. The real object, not the proxy:
            # Flask-Login stores what it is given as the current user, and a proxy that
            # resolves to itself recursed until the process crashed.
            login_user(current_user._get_current_object())
            flash(_("Password changed. Other sessions were logged out."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=ProfileForm(obj=current_user),
                           password_form=form, logout_form=ConfirmForm()), 422


@bp.route("/account/api-keys", methods=["GET", "POST"])
@login_required
def api_keys():
    form = ApiKeyForm()
    new_secret = None
    if form.validate_on_submit():
        issued = services.create_api_key(current_user, form.name.data or "", form.scopes.data)
        db.session.commit()
        new_secret = issued.secret
        flash(_("Copy your key now: it is shown only once."), "warning")
    keys = db.session.scalars(
        select(ApiKey).where(ApiKey.user_id == current_user.id).order_by(ApiKey.created_at.desc())
    ).all()
    return render_template("accounts/api_keys.html", form=form, keys=keys, new_secret=new_secret,
                           revoke_form=ConfirmForm())


@bp.route("/account/api-keys/<int:key_id>/revoke", methods=["POST"])
@login_required
def revoke_api_key(key_id: int):
    if ConfirmForm().validate_on_submit():
        services.revoke_api_key(current_user, key_id)
        db.session.commit()
        flash(_("The key is revoked."), "info")
    return redirect(url_for("accounts.api_keys"))
