"""The advertiser's offer pages: list, create, edit, status moves, creatives, private access."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from cpa_network.accounts.forms import ConfirmForm
from cpa_network.accounts.sessions import role_required
from cpa_network.errors import DomainError, ValidationFailed
from cpa_network.extensions import db
from cpa_network.navigation import NavItem
from offers import access, creatives, integration, links, services
from offers import status as st
from offers.forms import BannerForm, InviteForm, OfferForm, StatusForm, TextAdForm
from offers.models import CAP_PERIODS, CAP_SCOPES, CATEGORIES, REWARD_MODELS
from offers.stats import offer_metrics

bp = Blueprint("offers", __name__, url_prefix="/advertiser/offers")

STATUS_ACTIONS = {  # target -> button label, shown when the move is allowed
    st.PENDING: _l("Send to moderation"),
    st.PAUSED: _l("Pause"),
    st.ACTIVE: _l("Resume"),
    st.DRAFT: _l("Withdraw to draft"),
    st.ARCHIVED: _l("Archive"),
}


@bp.app_context_processor
def offer_labels() -> dict:
    """Labels the offer templates share (also on the publisher's pages)."""
    return {"status_labels": st.STATUS_LABELS, "categories": CATEGORIES,
            "reward_models": REWARD_MODELS, "cap_periods": CAP_PERIODS, "cap_scopes": CAP_SCOPES}


def _show_errors(form: OfferForm, fields: dict) -> dict:
    """Put each error next to its field; the rest (goals, caps) go to the returned dict."""
    rest = {}
    aliases = {"promo_discount_bp": "promo_discount"}
    for name, messages in fields.items():
        field = getattr(form, aliases.get(name, name), None)
        if field is not None and name not in ("goals", "caps"):
            field.errors = [*field.errors, *messages]
        else:
            rest.setdefault(name, []).extend(messages)
    return rest


@bp.route("/")
@role_required("advertiser")
def index():
    offers = services.offers_of(current_user)
    metrics = offer_metrics([o.id for o in offers], current_app.config["CATALOG_MIN_CLICKS"])
    return render_template("offers/index.html", offers=offers, metrics=metrics)


@bp.route("/new", methods=["GET", "POST"])
@role_required("advertiser")
def new():
    form = OfferForm()
    other_errors = {}
    if form.validate_on_submit():
        data, errors = form.to_offer_data()
        try:
            if errors:
                raise ValidationFailed(fields=errors)
            offer = services.create_offer(current_user, data, submit=not form.save_draft.data)
        except ValidationFailed as error:
            other_errors = _show_errors(form, error.fields)
        else:
            db.session.commit()
            flash(_("The offer is saved as a draft.") if offer.status == st.DRAFT else
                  _("The offer is sent to moderation."), "success")
            return redirect(url_for("offers.detail", offer_id=offer.id))
    return render_template("offers/form.html", form=form, offer=None,
                           other_errors=other_errors), 422 if form.errors or other_errors else 200


@bp.route("/<int:offer_id>")
@role_required("advertiser")
def detail(offer_id: int):
    offer = services.owned_offer(current_user, offer_id)
    allowed = st.TRANSITIONS[offer.status] - {st.REJECTED} - (
        {st.ACTIVE} if offer.status == st.PENDING else set())
    return render_template(
        "offers/detail.html", offer=offer, actions=[(t, STATUS_ACTIONS[t]) for t in
                                                    STATUS_ACTIONS if t in allowed],
        status_form=StatusForm(), banner_form=BannerForm(), text_form=TextAdForm(),
        invite_form=InviteForm(), confirm_form=ConfirmForm(),
        creatives=creatives.creatives_of(offer), grants=access.access_list(offer),
        examples=integration.examples(offer, links.base_url()))


@bp.route("/<int:offer_id>/edit", methods=["GET", "POST"])
@role_required("advertiser")
def edit(offer_id: int):
    offer = services.owned_offer(current_user, offer_id)
    form = OfferForm(obj=offer)
    if request.method == "GET":
        form.fill_from(offer)
    other_errors = {}
    if form.validate_on_submit():
        data, errors = form.to_offer_data()
        try:
            if errors:
                raise ValidationFailed(fields=errors)
            was_approved = offer.status in st.APPROVED
            services.update_offer(offer, data)
        except ValidationFailed as error:
            other_errors = _show_errors(form, error.fields)
        except DomainError as error:
            flash(error.message, "danger")
        else:
            db.session.commit()
            if was_approved and offer.status == st.PENDING:
                flash(_("Changes saved. The offer now sends visitors to a new site, so it is "
                        "back in moderation: its links work again once the operator approves "
                        "it."), "warning")
            else:
                flash(_("Changes saved."), "success")
            return redirect(url_for("offers.detail", offer_id=offer.id))
    return render_template("offers/form.html", form=form, offer=offer,
                           other_errors=other_errors), 422 if form.errors or other_errors else 200


@bp.route("/<int:offer_id>/status", methods=["POST"])
@role_required("advertiser")
def change_status(offer_id: int):
    offer = services.owned_offer(current_user, offer_id)
    form = StatusForm()
    # The advertiser moves their own offer; going live from moderation is the operator's call.
    if form.validate_on_submit() and form.target.data in STATUS_ACTIONS and not (
            offer.status == st.PENDING and form.target.data == st.ACTIVE):
        try:
            services.change_status(offer, form.target.data)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(_("The offer is now %(status)s.", status=st.STATUS_LABELS[offer.status]),
                  "success")
    return redirect(url_for("offers.detail", offer_id=offer_id))


@bp.route("/<int:offer_id>/creatives", methods=["POST"])
@role_required("advertiser")
def add_creative(offer_id: int):
    offer = services.owned_offer(current_user, offer_id)
    banner, text = BannerForm(), TextAdForm()
    back = url_for("offers.detail", offer_id=offer_id) + "#creatives"
    try:
        if banner.upload.data and banner.validate_on_submit():
            creatives.add_banner(offer, banner.file.data.read(), banner.name.data or "")
        elif text.add.data and text.validate_on_submit():
            creatives.add_text_ad(offer, text.headline.data, text.body.data or "",
                                  text.name.data or "")
        else:
            flash(_("Choose a file or write a headline."), "danger")
            return redirect(back)
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(back)
    db.session.commit()
    flash(_("Creative added."), "success")
    return redirect(back)


@bp.route("/<int:offer_id>/creatives/<int:creative_id>/delete", methods=["POST"])
@role_required("advertiser")
def delete_creative(offer_id: int, creative_id: int):
    offer = services.owned_offer(current_user, offer_id)
    if ConfirmForm().validate_on_submit():
        creatives.delete_creative(offer, creative_id)
        db.session.commit()
        flash(_("Creative deleted."), "info")
    return redirect(url_for("offers.detail", offer_id=offer_id) + "#creatives")


@bp.route("/<int:offer_id>/access", methods=["POST"])
@role_required("advertiser")
def invite(offer_id: int):
    offer = services.owned_offer(current_user, offer_id)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            access.invite_publisher(offer, form.email.data)
        except DomainError as error:
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(_("The publisher can now see this offer."), "success")
    else:
        flash(_("Enter the publisher's email."), "danger")
    return redirect(url_for("offers.detail", offer_id=offer_id) + "#access")


@bp.route("/<int:offer_id>/access/<int:publisher_id>/revoke", methods=["POST"])
@role_required("advertiser")
def revoke(offer_id: int, publisher_id: int):
    offer = services.owned_offer(current_user, offer_id)
    if ConfirmForm().validate_on_submit():
        access.revoke_access(offer, publisher_id)
        db.session.commit()
        flash(_("Access revoked."), "info")
    return redirect(url_for("offers.detail", offer_id=offer_id) + "#access")


NAV = (
    NavItem("advertiser", "offers.index", _l("My offers"),
            _l("Create offers, upload creatives, pause and resume them.")),
    NavItem("advertiser", "conversions.index", _l("Conversions"),
            _l("Review conversions: approve, reject, see fraud signals and the postback log.")),
    NavItem("admin", "moderation.queue", _l("Moderation"),
            _l("Approve or reject offers waiting for moderation.")),
    NavItem("admin", "fraud.queue", _l("Fraud"),
            _l("Conversions held for review: approve, reject, block the publisher.")),
)
