"""Conversions the escrow could not cover: the offer pauses, the advertiser is told, and once
they top up the waiting conversions are funded oldest first.

How a top-up reaches us without payouts importing offers: `create_app` registers
`offers.tasks.fund_awaiting_conversions` with `payouts.deposits.register_credit_listener`, and
`credit_deposit` enqueues it after its commit (advertiser id and currency). A periodic job runs
the same function for every advertiser with waiting conversions, so a top-up that missed its
job (Redis away at commit) or money that arrived another way is picked up within minutes.
A chargeback that shrinks the escrow pauses the offers it no longer backs the same way
(`pause_unfunded`, registered with `payouts.disputes.register_withdrawn_listener`).
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from cpa_network.database import utcnow
from cpa_network.errors import DomainError
from cpa_network.extensions import db
from cpa_network.notifications.services import MESSAGES, notify
from offers import conversions, funding, services
from offers import status as st
from offers.conversion_models import WAITING_FOR_FUNDS, Conversion
from offers.models import Offer
from payouts.dispute_debts import settle_escrow_debts_before_holds
from payouts.ledger import InsufficientFunds

FUNDS = "insufficient_funds"
MESSAGES.update({
    "offer_paused_funds": _l("Your offer \"%(name)s\" is paused: the escrow does not cover its "
                             "conversions. Top up the escrow; conversions waiting for funds are "
                             "paid first, oldest first."),
    "conversions_funded": _l("%(count)s conversions that waited for funds are now on hold "
                             "from your escrow."),
    "offer_resumed_funds": _l("Your offer \"%(name)s\" is live again: its conversions are "
                              "funded."),
})


def awaiting_exists(advertiser_id: int, currency: str) -> bool:
    """Conversions of this advertiser already wait for funds in this currency (new ones queue
    behind them, so they are funded in the order they came)."""
    return db.session.scalar(select(exists().where(
        Conversion.advertiser_id == advertiser_id, Conversion.currency == currency,
        WAITING_FOR_FUNDS)))


def pause_for_funds(offer: Offer, conversion: Conversion) -> None:
    """The escrow ran short: pause the offer (once) and tell the advertiser."""
    offer = db.session.scalar(select(Offer).where(Offer.id == offer.id).with_for_update()
                              .execution_options(populate_existing=True))
    if offer.status != st.ACTIVE:
        return
    services.change_status(offer, st.PAUSED)
    offer.paused_reason = FUNDS
    notify(offer.advertiser_id, "offer_paused_funds",
           f"offer_paused_funds:{offer.id}:{conversion.id}", name=offer.name)


def pause_unfunded(advertiser_id: int, currency: str) -> int:
    """The escrow shrank outside a conversion (a chargeback took it back): pause, as for funds,
    each live offer it no longer backs, so new conversions wait for a top-up instead of being
    paid; the top-up's funding job resumes them. Returns how many were paused."""
    live = db.session.scalars(select(Offer).where(
        Offer.advertiser_id == advertiser_id, Offer.currency == currency,
        Offer.status == st.ACTIVE).order_by(Offer.id).with_for_update()
        .execution_options(populate_existing=True))
    paused = 0
    for offer in live:
        try:
            funding.check_offer_is_funded(offer)
        except funding.InsufficientEscrow:
            services.change_status(offer, st.PAUSED)
            offer.paused_reason = FUNDS
            notify(offer.advertiser_id, "offer_paused_funds",
                   f"offer_paused_funds:{offer.id}:{utcnow().isoformat()}", name=offer.name)
            paused += 1
    return paused


def fund_awaiting(advertiser_id: int, currency: str, now: datetime | None = None) -> int:
    """Hold escrow for waiting conversions, oldest first, until one does not fit; resume the
    offers paused for funds that no longer wait. Returns how many were funded."""
    now = now or utcnow()
    # A chargeback's debt is repaid before any waiting conversion is held.
    settle_escrow_debts_before_holds(advertiser_id, currency)
    waiting = list(db.session.scalars(
        select(Conversion).where(Conversion.advertiser_id == advertiser_id,
                                 Conversion.currency == currency,
                                 WAITING_FOR_FUNDS)
        .order_by(Conversion.created_at, Conversion.id).with_for_update()
        .execution_options(populate_existing=True)))
    funded = []
    for conversion in waiting:
        try:
            conversions.fund(conversion, conversion.offer.hold_days, now)
        except InsufficientFunds:
            break  # strictly oldest first: a later, smaller one does not jump the queue
        funded.append(conversion)
    if funded:
        notify(advertiser_id, "conversions_funded",
               f"conversions_funded:{funded[0].id}:{funded[-1].id}", count=len(funded))
    _resume_offers(advertiser_id, currency)
    return len(funded)


def _resume_offers(advertiser_id: int, currency: str) -> None:
    paused = db.session.scalars(select(Offer).where(
        Offer.advertiser_id == advertiser_id, Offer.currency == currency,
        Offer.status == st.PAUSED, Offer.paused_reason == FUNDS).with_for_update())
    for offer in paused:
        if db.session.scalar(select(exists().where(Conversion.offer_id == offer.id,
                                                   WAITING_FOR_FUNDS))):
            continue
        try:
            with db.session.begin_nested():
                services.change_status(offer, st.ACTIVE)
        except DomainError:
            continue  # still not enough escrow for one more conversion: stays paused
        notify(offer.advertiser_id, "offer_resumed_funds",
               f"offer_resumed_funds:{offer.id}:{utcnow().isoformat()}", name=offer.name)


def advertisers_waiting() -> list[tuple[int, str]]:
    """(advertiser id, currency) pairs with conversions waiting for funds."""
    return [(advertiser_id, currency) for advertiser_id, currency in db.session.execute(
        select(Conversion.advertiser_id, Conversion.currency)
        .where(WAITING_FOR_FUNDS).distinct())]
