"""Demo step: lots on the referral exchange, through the real services: clean ones, ones with
risk signals (a click spike before listing, a recent registration), and — where the buyers
have earned enough — one sold and in its guarantee period, one disputed and one released; and
one more founder who topped up their available balance (sandbox) to buy a lot later."""

import contextlib
from datetime import timedelta

from cpa_network.demo import DemoContext
from cpa_network.extensions import db
from offers.clickstore import store_clicks
from payouts import deposits, ledger
from payouts.gateway import SandboxGateway
from payouts.models import AccountKind
from publishers import exchange_buying, exchange_core, exchange_listing, exchange_settlement
from publishers.demo import _click


def _eligible(publishers, at):
    """(seller, referral) pairs a seller could list at `at`."""
    pairs = []
    for referral in publishers:
        seller = referral.referred_by
        if seller is not None and not exchange_listing.listing_problems(seller.id, referral, at):
            pairs.append((seller, referral))
    return pairs


def _spike(context: DemoContext, referral, at) -> None:
    """A burst of clicks in the days before listing: what a pumped lot looks like."""
    links = [link for link in context.made.get("links", []) if link.publisher_id == referral.id]
    if not links:
        return
    records = [_click(context.rng, at - timedelta(days=context.rng.uniform(0.1, 6)), links[0],
                      context.rng.choice(links[0].offer.country_list or ["US"]))
               for _ in range(400)]
    records.sort(key=lambda r: r["id"])
    store_clicks(records)


def _buy(buyer, lot, at):
    """Buy if the buyer has earned enough (the demo never creates money out of nothing)."""
    if ledger.balance(AccountKind.PUBLISHER_AVAILABLE, buyer.id, lot.currency) < lot.price:
        return None
    with contextlib.suppress(exchange_core.ExchangeError):
        return exchange_buying.buy_lot(buyer, lot.id, now=at)
    return None


def _top_up(publisher, amount: int, currency: str) -> None:
    """A publisher's top-up through the (sandbox) gateway, as the lot page offers it."""
    sandbox = SandboxGateway()
    deposits.open_checkout(deposits.create_deposit(publisher, amount, currency, gateway=sandbox,
                                                   kind=AccountKind.PUBLISHER_AVAILABLE),
                           "", "", gateway=sandbox)


def create_lots(context: DemoContext) -> None:
    now, rng = context.now, context.rng
    publishers = context.made["publishers"]
    founders = [p for p in publishers if p.referred_by_id is None]
    early = now - timedelta(days=12)
    pairs = _eligible(publishers, early)
    rng.shuffle(pairs)
    used, lots = set(), []
    for seller, referral in pairs:
        if referral.id in used or seller.id in used or len(lots) >= 6:
            continue
        at = early if len(lots) < 3 else now - timedelta(days=rng.randint(1, 4))
        if len(lots) == 3:
            _spike(context, referral, at)
        price = rng.choice((15_00, 25_00, 40_00, 60_00))
        lots.append(exchange_listing.list_referral(
            seller, referral.id, price, "USD",
            rng.choice(("", "Active in finance offers.", "Steady traffic from a blog.")), at))
        used.update((referral.id, seller.id))
    db.session.flush()
    buyers = [f for f in founders if f.id not in used]
    for lot, days_ago, outcome in zip(lots[:3], (10, 2, 1), ("release", "keep", "dispute"),
                                      strict=False):
        buyer = next((b for b in buyers if b.id != lot.seller_id), None)
        sale = _buy(buyer, lot, now - timedelta(days=days_ago)) if buyer else None
        if sale is None:
            continue
        buyers.remove(buyer)
        if outcome == "release":
            exchange_settlement.release_if_due(sale.id, now)
        elif outcome == "dispute":
            exchange_settlement.open_dispute(
                buyer, sale.id, "The referral stopped working the day after I bought it.",
                now - timedelta(hours=6))
    if buyers:
        _top_up(buyers[0], 25_00, "USD")
    context.made["lots"] = lots
