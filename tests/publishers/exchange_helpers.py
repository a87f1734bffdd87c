"""Builders for referral-program and exchange tests, through the same services the site uses."""

import itertools
import threading
import time
from datetime import timedelta

from cpa_network.database import utcnow
from cpa_network.extensions import db
from offers.clickstore import hour_of, upsert_rollups
from payouts import commissions, escrow, ledger
from payouts.invariants import check_ledger
from payouts.models import AccountKind
from publishers import exchange
from tests.factories import make_user
from tests.offers.helpers import make_link, make_offer
from tests.payouts.helpers import fund_escrow

_conversions = itertools.count(1)


def fund_available(user_id: int, amount: int, currency: str = "USD") -> None:
    """Money a publisher earned, straight into their available balance (committed)."""
    ledger.post_transaction(
        f"test-earned:{user_id}:{currency}:{amount}:{next(_conversions)}",
        ledger.transfer(ledger.network_account(AccountKind.GATEWAY_CLEARING, currency),
                        ledger.account(AccountKind.PUBLISHER_AVAILABLE, user_id, currency),
                        amount), "deposit", {"publisher": user_id})
    db.session.commit()


def available(user_id: int, currency: str = "USD") -> int:
    db.session.expire_all()
    return ledger.balance(AccountKind.PUBLISHER_AVAILABLE, user_id, currency)


def add_traffic(user, clicks: int = 40, flagged: int = 0, conversions: int = 0, at=None,
                offer=None) -> None:
    """Clicks (and conversion counts) of the user's own in the hourly rollups."""
    link = make_link(offer or make_offer(), user)
    upsert_rollups([{"hour": hour_of(at or utcnow() - timedelta(hours=2)), "link_id": link.id,
                     "offer_id": link.offer_id, "publisher_id": user.id, "country": "",
                     "sub1": "", "sub2": "", "sub3": "", "sub4": "", "sub5": "",
                     "clicks": clicks, "unique_clicks": clicks - flagged,
                     "flagged_clicks": flagged, "conversions": conversions, "payout": 0}],
                   ("clicks", "unique_clicks", "flagged_clicks", "conversions", "payout"))
    db.session.commit()


def make_referral(seller, *, owned_days: int = 10, registered_days: int = 60,
                  seen_days: float = 1, traffic: bool = True, **attrs):
    """A direct referral of `seller` that meets every listing rule unless told otherwise."""
    now = utcnow()
    referral = make_user("publisher", upline=seller)
    if traffic:
        add_traffic(referral)
    referral.registered_at = now - timedelta(days=registered_days)
    referral.referred_at = now - timedelta(days=owned_days)
    referral.last_seen_at = now - timedelta(days=seen_days)
    for name, value in attrs.items():
        setattr(referral, name, value)
    db.session.commit()
    return referral


def approve(publisher_id: int, fee: int, payout: int = 10_00, currency: str = "USD",
            at=None) -> int:
    """A conversion of the publisher held and approved, with the referral commissions routed
    exactly as the conversions approval path does. Returns the conversion id."""
    conversion_id = next(_conversions)
    advertiser = make_user("advertiser")
    fund_escrow(advertiser.id, payout + fee, currency, key=f"test-fund:conv:{conversion_id}")
    escrow.hold_conversion(conversion_id, advertiser.id, publisher_id, currency, payout, fee)
    escrow.approve_conversion(conversion_id, commissions=commissions.route(
        conversion_id, publisher_id, fee, currency, at))
    db.session.commit()
    return conversion_id


def assert_ledger_clean() -> None:
    db.session.expire_all()
    report = check_ledger()
    assert report.ok, [p for check in report.checks for p in check.problems]


def sold(price: int = 30_00, refback_bp: int = 0):
    """A referral listed and bought (in its guarantee period): (sale id, seller, referral,
    buyer)."""
    seller = make_user("publisher")
    referral = make_referral(seller)
    if refback_bp:
        commissions.set_refback(seller, referral.id, refback_bp)
    lot = exchange.list_referral(seller, referral.id, price, "USD")
    db.session.commit()
    buyer = make_user("publisher")
    fund_available(buyer.id, price)
    sale = exchange.buy_lot(buyer, lot.id)
    db.session.commit()
    return sale.id, seller, referral, buyer


def add_conversions(user, count: int, status: str = "approved", days_ago: float = 1,
                    payout: int = 5_00) -> None:
    """Crafted conversion rows of the user's own (for the statistics, not the money)."""
    from offers.conversion_models import Conversion

    at = utcnow() - timedelta(days=days_ago)
    link = make_link(make_offer(), user)
    offer = link.offer
    db.session.add_all([Conversion(
        offer_id=offer.id, goal_code="registration", advertiser_id=offer.advertiser_id,
        publisher_id=user.id, link_id=link.id, source="postback",
        txid=f"crafted-{user.id}-{next(_conversions)}", currency="USD", payout=payout, fee=0,
        status=status, created_at=at, decided_at=at if status != "pending" else None)
        for _ in range(count)])
    db.session.commit()


def run_overlapping(app, work, second_work=None) -> list:
    """Two requests doing `work()` (the second `second_work()` if given), the second starting
    after the first has written but before it commits (a double click, a retried call): [first
    result, second result], an exception standing for the result of a request that failed."""
    written = threading.Event()
    results: list = [None, None]

    def run(index: int, wait_first: bool, hold_s: float) -> None:
        with app.app_context():
            if wait_first:
                written.wait(10)
            try:
                results[index] = (second_work or work)() if index else work()
                written.set()
                time.sleep(hold_s)
                db.session.commit()
            except Exception as error:
                db.session.rollback()
                results[index] = error
            finally:
                written.set()
                db.session.remove()

    threads = [threading.Thread(target=run, args=(0, False, 1.0)),
               threading.Thread(target=run, args=(1, True, 0))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results
