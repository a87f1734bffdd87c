"""The publishers' catalog: live offers they may promote, searched, filtered and sorted by
payout, EPC or conversion rate over the last 30 days (from the rollups; 'new' below a sample)."""

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import exists, or_, select

from cpa_network.accounts.models import User
from cpa_network.extensions import db
from offers import status as st
from offers.models import Goal, Offer, OfferAccess
from offers.stats import OfferMetrics, metrics_subquery, offer_metrics

SORTS = ("payout", "epc", "cr", "newest")


@dataclass(frozen=True)
class CatalogQuery:
    text: str = ""
    category: str = ""
    country: str = ""
    payout_type: str = ""
    currency: str = ""
    sort: str = "payout"


def visible_to(publisher: User):
    """The WHERE clause: live, and public or the publisher was invited."""
    invited = exists().where(OfferAccess.offer_id == Offer.id,
                             OfferAccess.publisher_id == publisher.id)
    return (Offer.status == st.ACTIVE) & or_(Offer.visibility == "public", invited)


def catalog_select(publisher: User, query: CatalogQuery):
    min_clicks = current_app.config["CATALOG_MIN_CLICKS"]
    metrics = metrics_subquery(min_clicks)
    stmt = (select(Offer).outerjoin(metrics, metrics.c.offer_id == Offer.id)
            .where(visible_to(publisher)))
    if query.text.strip():
        like = f"%{query.text.strip().lower()}%"
        stmt = stmt.where(or_(Offer.name.ilike(like), Offer.description_md.ilike(like)))
    if query.category:
        stmt = stmt.where(Offer.category == query.category)
    if query.country:
        code = query.country.strip().upper()[:2]
        stmt = stmt.where(or_(Offer.allowed_countries == "",
                              Offer.allowed_countries.contains(code)))
    if query.payout_type in ("fixed", "percent"):
        stmt = stmt.where(exists().where(Goal.offer_id == Offer.id,
                                         Goal.payout_type == query.payout_type))
    if query.currency:
        stmt = stmt.where(Offer.currency == query.currency.upper())
    epc = db.func.coalesce(metrics.c.epc, -1.0)
    cr = db.func.coalesce(metrics.c.cr, -1.0)
    order = {
        # Amounts compare within a currency (no rates here): these sorts group currencies first.
        "payout": (Offer.currency, Offer.top_payout.desc()),
        "epc": (Offer.currency, epc.desc()),
        "cr": (cr.desc(),),
        "newest": (Offer.created_at.desc(),),
    }[query.sort if query.sort in SORTS else "payout"]
    return stmt.order_by(*order, Offer.id.desc())


def search_catalog(publisher: User, query: CatalogQuery, page: int = 1, per_page: int = 20):
    """A page of offers and their 30-day metrics."""
    pagination = db.paginate(catalog_select(publisher, query), page=page, per_page=per_page,
                             error_out=False)
    metrics: dict[int, OfferMetrics] = offer_metrics(
        [o.id for o in pagination.items], current_app.config["CATALOG_MIN_CLICKS"])
    return pagination, metrics
