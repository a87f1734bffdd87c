"""Offers built through the same services the site uses, and small click helpers."""

from sqlalchemy import func, select

from cpa_network.extensions import db
from offers import links, moderation, services
from offers.services import GoalData, OfferData
from offers.tracking_models import Click, TrackingLink, TrafficHourly
from tests.factories import make_user
from tests.payouts.helpers import fund_escrow

LANDING = "https://shop.example.com/land?cid={click_id}&s1={sub1}&s2={sub2}&p={publisher_id}&o={offer_id}"
RU_IP, US_IP = "77.88.55.60", "8.8.8.8"
BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/126.0 Safari/537.36")


def offer_data(**overrides) -> OfferData:
    values = dict(name="Test offer", category="finance", landing_url=LANDING, currency="USD",
                  goals=(GoalData("registration", "fixed", 10_00, "Registration"),))
    values.update(overrides)
    return OfferData(**values)


def make_offer(advertiser=None, *, live: bool = True, escrow: int = 1_000_00, **overrides):
    """A committed offer; live: funded and approved by an operator."""
    advertiser = advertiser or make_user("advertiser")
    offer = services.create_offer(advertiser, offer_data(**overrides))
    db.session.commit()
    if live:
        if escrow:
            fund_escrow(advertiser.id, escrow, offer.currency,
                        key=f"test-fund:{advertiser.id}:{offer.id}")
        moderation.moderate(offer.id, make_user("admin"), "approve")
        db.session.commit()
    return offer


def make_link(offer, publisher=None) -> TrackingLink:
    publisher = publisher or make_user("publisher")
    link = links.link_for(offer, publisher)
    db.session.commit()
    return link


def click(client, link, query: str = "", ip: str = RU_IP, agent: str = BROWSER, **kwargs):
    headers = {"User-Agent": agent, **kwargs.pop("headers", {})}
    return client.get(f"/c/{link.token}{query}", headers=headers,
                      environ_base={"REMOTE_ADDR": ip}, **kwargs)


def stored_clicks() -> list[Click]:
    db.session.expire_all()
    return list(db.session.scalars(select(Click).order_by(Click.id)))


def rollup_totals() -> tuple[int, int, int]:
    db.session.expire_all()
    row = db.session.execute(select(func.coalesce(func.sum(TrafficHourly.clicks), 0),
                                    func.coalesce(func.sum(TrafficHourly.unique_clicks), 0),
                                    func.coalesce(func.sum(TrafficHourly.flagged_clicks), 0))).one()
    return tuple(int(v) for v in row)
