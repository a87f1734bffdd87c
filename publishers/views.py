"""Publisher pages: the catalog, an offer's terms, "Get link" with its builder, QR codes,
promo code and creatives, the list of links, conversions and the postback URL (statistics:
publishers.stats_views)."""

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from cpa_network.accounts.sessions import role_required
from cpa_network.database import utcnow
from cpa_network.errors import DomainError, ValidationFailed
from cpa_network.extensions import db
from cpa_network.navigation import NavItem
from offers import access, catalog, creatives, links, outgoing, review, stats
from offers.conversion_forms import PublisherPostbackForm
from offers.conversion_models import STATUSES
from offers.models import CATEGORIES
from offers.stats import offer_metrics
from payouts.currency import CURRENCIES
from publishers import offer_ratings, services
from publishers.forms import BuilderForm, GetLinkForm

bp = Blueprint("publishers", __name__)

CATALOG_FILTER_KEYS = ("q", "category", "country", "payout_type", "currency", "sort")


@bp.route("/catalog")
@role_required("publisher")
def catalog_page():
    args = request.args
    query = catalog.CatalogQuery(text=args.get("q", ""), category=args.get("category", ""),
                                 country=args.get("country", ""),
                                 payout_type=args.get("payout_type", ""),
                                 currency=args.get("currency", ""),
                                 sort=args.get("sort", "payout"))
    page, metrics = catalog.search_catalog(current_user, query, page=args.get("page", 1, type=int))
    # The pager's links carry the filters, and only them: any other query key (`endpoint`,
    # `_external`...) would reach url_for as one of its own arguments.
    filters = {key: args[key] for key in CATALOG_FILTER_KEYS if args.get(key)}
    return render_template("publishers/catalog.html", page=page, metrics=metrics, query=query,
                           categories=CATEGORIES, currencies=CURRENCIES, sorts=catalog.SORTS,
                           filters=filters)


@bp.route("/catalog/<int:offer_id>")
@role_required("publisher")
def offer(offer_id: int):
    found = access.visible_offer(current_user, offer_id)
    metrics = offer_metrics([found.id], current_app.config["CATALOG_MIN_CLICKS"])[found.id]
    return render_template("publishers/offer.html", offer=found, metrics=metrics,
                           rating=offer_ratings.rating_of(found.id), form=GetLinkForm())


@bp.route("/catalog/<int:offer_id>/link", methods=["POST"])
@role_required("publisher")
def get_link(offer_id: int):
    if GetLinkForm().validate_on_submit():
        services.get_link(current_user, offer_id)
        db.session.commit()
    return redirect(url_for("publishers.link", offer_id=offer_id))


@bp.route("/catalog/<int:offer_id>/link")
@role_required("publisher")
def link(offer_id: int):
    form = BuilderForm(request.args)
    try:
        built = services.build_link(current_user, offer_id, request.args)
    except ValidationFailed as error:
        for name, messages in error.fields.items():
            getattr(form, name).errors = list(messages)
        built = services.build_link(current_user, offer_id, {**request.args, "deep_link": ""})
    db.session.commit()  # the link may have been created just now
    base = links.base_url()
    ads = [(c, creatives.embed_code(c, built.url, base)) for c in
           creatives.creatives_of(built.offer)]
    qr_args = {k: v for k, v in [*built.subs.items(), ("deep_link", built.deep_link)] if v}
    return render_template("publishers/link.html", built=built, form=form, ads=ads,
                           qr_args=qr_args)


@bp.route("/catalog/<int:offer_id>/qr.<any(png, svg):kind>")
@role_required("publisher")
def qr(offer_id: int, kind: str):
    built = services.build_link(current_user, offer_id, request.args)
    db.session.commit()
    mimetype = "image/png" if kind == "png" else "image/svg+xml"
    response = Response(services.qr_code(built.url, kind), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="offer-{offer_id}.{kind}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


@bp.route("/links")
@role_required("publisher")
def my_links():
    mine = links.links_of(current_user)
    since = utcnow() - timedelta(days=30)
    traffic = {row.key: row for row in stats.publisher_traffic(current_user.id, since, "link")}
    return render_template("publishers/links.html", links=mine, traffic=traffic,
                           base=links.base_url())


@bp.route("/conversions")
@role_required("publisher")
def conversions():
    f = review.filter_from(request.args)
    page = db.paginate(review.publisher_query(current_user.id, f), per_page=50,
                       error_out=False)
    return render_template("publishers/conversions.html", page=page, f=f, statuses=STATUSES,
                           offer_choices=[(link.offer_id, link.offer.name)
                                          for link in links.links_of(current_user)])


@bp.route("/conversions/postback", methods=["GET", "POST"])
@role_required("publisher")
def postback_settings():
    found = outgoing.settings_for(current_user.id)
    form = PublisherPostbackForm(obj=found)
    if form.validate_on_submit():
        try:
            outgoing.save_settings(current_user.id, form.url_template.data or "",
                                   on_created=form.on_created.data,
                                   on_approved=form.on_approved.data,
                                   on_rejected=form.on_rejected.data)
        except DomainError as error:
            db.session.rollback()
            form.url_template.errors = [*form.url_template.errors, error.message]
        else:
            db.session.commit()
            flash(_("Postback settings saved."), "success")
            return redirect(url_for("publishers.postback_settings"))
    status = 422 if form.errors else 200
    return render_template("publishers/postback.html", form=form, settings=found,
                           deliveries=outgoing.deliveries_of(current_user.id),
                           macros=outgoing.MACROS), status


NAV = (
    NavItem("publisher", "publishers.catalog_page", _l("Offers"),
            _l("Browse offers, compare EPC and conversion rates, get your links.")),
    NavItem("publisher", "publishers.my_links", _l("My links"),
            _l("Your tracking links, promo codes and QR codes.")),
    NavItem("publisher", "stats.publisher", _l("Statistics"),
            _l("Clicks, conversions and earnings live, by offer, link, sub-id, country and "
               "day; charts, funnel and CSV.")),
    NavItem("publisher", "ratings.leaderboard", _l("Ratings"),
            _l("Your score, rank and trend, the leaderboards, and how offers pay.")),
    NavItem("advertiser", "stats.advertiser", _l("Statistics"),
            _l("Clicks, conversions and spend per offer and publisher, budget left, caps, "
               "and who brings your conversions.")),
    NavItem("admin", "stats.operator", _l("Network"),
            _l("Network totals, revenue, top publishers and offers, fraud queue, job "
               "queues.")),
    NavItem("advertiser", "ratings.leaderboard", _l("Publishers"),
            _l("The publisher leaderboard: pick performers and invite them to private "
               "offers.")),
    NavItem("publisher", "publishers.conversions", _l("Conversions"),
            _l("Your conversions, their status and when they become available; your "
               "postback URL.")),
)
