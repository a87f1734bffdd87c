"""The referral exchange: listing rules, purchase (and its race), commission routing around a
sale, disputes, the release job; the ledger is checked after every scenario."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.errors import NotFound
from cpa_network.extensions import db
from payouts import ledger
from payouts.commission_models import ReferralCommission
from payouts.ledger import InsufficientFunds
from payouts.models import AccountKind, LedgerTransaction
from publishers import exchange
from publishers.exchange_models import ExchangeEvent, ListingRefusal, Lot, LotSale
from publishers.tasks import release_due_sales
from tests.conftest import run_worker_burst
from tests.factories import make_user
from tests.payouts.test_ledger_concurrency import run_in_threads
from tests.publishers.exchange_helpers import (
    add_traffic,
    approve,
    assert_ledger_clean,
    available,
    fund_available,
    make_referral,
    run_overlapping,
    sold,
)

PRICE = 30_00


def listed(seller=None, referral=None, price=PRICE) -> Lot:
    seller = seller or make_user("publisher")
    referral = referral or make_referral(seller)
    lot = exchange.list_referral(seller, referral.id, price, "USD", "good one")
    db.session.commit()
    return lot


def user(user_id) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


@pytest.mark.parametrize(("setup", "error", "message"), [
    (dict(blocked_at=utcnow()), exchange.ReferralBlocked, "blocked"),
    (dict(seen_days=8), exchange.ReferralNotLoggedIn, "not logged in within the last 7 days"),
    (dict(traffic=False), exchange.ReferralIdle, "no clicks or conversions in the last 30 days"),
    (dict(owned_days=6), exchange.OwnedTooShort, "had it for 7 days"),
])
def test_each_listing_rule_refuses_with_its_message(app, app_context, setup, error, message):
    seller = make_user("publisher")
    referral = make_referral(seller, **setup)
    with pytest.raises(error, match=message):
        exchange.list_referral(seller, referral.id, PRICE, "USD")


def test_old_traffic_does_not_count_as_activity(app, app_context):
    seller = make_user("publisher")
    referral = make_referral(seller, traffic=False)
    add_traffic(referral, at=utcnow() - timedelta(days=31))
    with pytest.raises(exchange.ReferralIdle):
        exchange.list_referral(seller, referral.id, PRICE, "USD")
    add_traffic(referral, clicks=5, flagged=5)  # only flagged clicks: not activity either
    with pytest.raises(exchange.ReferralIdle):
        exchange.list_referral(seller, referral.id, PRICE, "USD")


def test_price_minimum_currency_and_one_open_lot_per_referral(app, app_context):
    seller = make_user("publisher")
    referral = make_referral(seller)
    with pytest.raises(exchange.PriceTooLow, match=r"minimum price is \$5.00"):
        exchange.list_referral(seller, referral.id, 4_99, "USD")
    with pytest.raises(exchange.CurrencyUnsupported):
        exchange.list_referral(seller, referral.id, PRICE, "XYZ")
    lot = listed(seller, referral)
    assert lot.listed_at is not None and lot.note == "good one"
    with pytest.raises(exchange.AlreadyListed):
        exchange.list_referral(seller, referral.id, PRICE, "USD")
    db.session.rollback()
    exchange.withdraw_lot(seller, lot.id)
    db.session.commit()
    assert listed(seller, referral).status == "listed"  # listable again once withdrawn


def test_listing_someone_elses_referral_is_refused_and_recorded(app, app_context):
    seller = make_user("publisher")
    referral = make_referral(seller)
    thief = make_user("publisher")
    with pytest.raises(exchange.NotYourReferral, match="current upline"):
        exchange.list_referral(thief, referral.id, PRICE, "USD")
    with pytest.raises(exchange.NotYourReferral):
        exchange.list_referral(thief, 999_999, PRICE, "USD")
    db.session.rollback()  # the request fails; the signal stays
    refusals = db.session.scalars(select(ListingRefusal).order_by(ListingRefusal.id)).all()
    assert [(r.user_id, r.referral_id, r.actual_upline_id) for r in refusals] == [
        (thief.id, referral.id, seller.id), (thief.id, 999_999, None)]
    assert db.session.query(Lot).count() == 0


def test_buying_moves_the_money_to_escrow_and_the_referral_to_the_buyer(app, app_context):
    lot = listed()
    seller_id, referral_id = lot.seller_id, lot.referral_id
    buyer = make_user("publisher")
    fund_available(buyer.id, 50_00)
    sale = exchange.buy_lot(buyer, lot.id)
    db.session.commit()
    assert available(buyer.id) == 20_00
    assert ledger.balance(AccountKind.EXCHANGE_ESCROW, sale.id, "USD") == PRICE
    assert user(referral_id).referred_by_id == buyer.id
    assert (utcnow() - user(referral_id).referred_at).total_seconds() < 60
    assert db.session.get(Lot, lot.id).status == "sold"
    assert sale.guarantee_until - sale.bought_at == timedelta(days=7)
    events = {(e.user_id, e.event) for e in db.session.scalars(select(ExchangeEvent))}
    assert {(buyer.id, "bought"), (seller_id, "sold"), (seller_id, "listed")} <= events
    assert_ledger_clean()


def test_a_buyer_without_the_money_changes_nothing(app, app_context):
    lot = listed()
    buyer = make_user("publisher")
    fund_available(buyer.id, 10_00)
    with pytest.raises(InsufficientFunds):
        exchange.buy_lot(buyer, lot.id)
    db.session.rollback()
    assert db.session.get(Lot, lot.id).status == "listed"
    assert user(lot.referral_id).referred_by_id == lot.seller_id
    assert available(buyer.id) == 10_00 and db.session.query(LotSale).count() == 0


def test_who_may_not_buy(app, app_context):
    a = make_user("publisher")
    b = make_referral(a)
    c = make_referral(b)
    lot_of_b = listed(a, b)
    fund_available(c.id, 100_00)
    fund_available(a.id, 100_00)
    with pytest.raises(exchange.OwnLot):
        exchange.buy_lot(a, lot_of_b.id)
    with pytest.raises(exchange.BuyingYourself):
        exchange.buy_lot(db.session.get(User, b.id), lot_of_b.id)
    with pytest.raises(exchange.ReferralCycle):  # c would become its own upline's upline
        exchange.buy_lot(c, lot_of_b.id)
    db.session.rollback()
    assert db.session.get(Lot, lot_of_b.id).status == "listed"


def test_two_buyers_racing_for_one_lot_one_wins_the_other_keeps_the_money(app, app_context):
    lot = listed()
    buyers = [make_user("publisher") for _ in range(2)]
    for buyer in buyers:
        fund_available(buyer.id, 50_00)
    buyer_ids, lot_id = [b.id for b in buyers], lot.id

    def buy(i):
        return exchange.buy_lot(db.session.get(User, buyer_ids[i]), lot_id).buyer_id

    results = run_in_threads(app, 2, buy)
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if isinstance(r, exchange.LotNotAvailable)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert "Your money was not touched" in str(losers[0].message)
    loser_id = next(b for b in buyer_ids if b != winners[0])
    assert available(winners[0]) == 20_00 and available(loser_id) == 50_00
    assert user(lot.referral_id).referred_by_id == winners[0]
    assert db.session.query(LotSale).count() == 1
    assert_ledger_clean()


def test_commissions_follow_the_referral_from_the_minute_of_the_sale(app, app_context):
    """Before the sale the seller earns on the referral's conversions (and its own referral's);
    a conversion approved a minute after the purchase pays the buyer."""
    seller = make_user("publisher")
    referral = make_referral(seller)
    grandchild = make_user("publisher", upline=referral)
    approve(referral.id, fee=10_00)
    approve(grandchild.id, fee=10_00)
    assert available(seller.id) == 1_00 + 30
    lot = listed(seller, referral)
    buyer = make_user("publisher")
    fund_available(buyer.id, PRICE)
    exchange.buy_lot(buyer, lot.id, now=utcnow() - timedelta(minutes=1))
    db.session.commit()
    approve(referral.id, fee=10_00)
    approve(grandchild.id, fee=10_00)
    assert available(buyer.id) == 1_00 + 30
    assert available(seller.id) == 1_30
    assert_ledger_clean()


def test_dispute_refund_returns_money_referral_and_reverses_commissions(app, app_context):
    sale_id, seller, referral, buyer = sold(refback_bp=2000)
    referred_at_before = db.session.get(LotSale, sale_id).seller_referred_at
    approve(referral.id, fee=10_00, payout=40_00)  # buyer earns 1.00 - 20 % refback = 0.80
    assert available(buyer.id) == 80 and available(referral.id) == 40_20
    exchange.open_dispute(buyer, sale_id, "It stopped converting the day after.")
    db.session.commit()
    admin = make_user("admin")
    sale = exchange.resolve_dispute(admin, sale_id, "refund", "Pumped lot.")
    db.session.commit()
    assert sale.status == "refunded"
    assert available(buyer.id) == PRICE  # the price back, the 0.80 taken back
    assert available(referral.id) == 40_20  # the referral keeps its payout and refback
    assert available(seller.id) == 0
    assert ledger.balance(AccountKind.EXCHANGE_ESCROW, sale_id, "USD") == 0
    back = user(referral.id)
    assert back.referred_by_id == seller.id and back.referred_at == referred_at_before
    row = db.session.scalar(select(ReferralCommission))
    assert row.reversed_at is not None
    reversal = db.session.scalar(select(LedgerTransaction).where(
        LedgerTransaction.reason == "commission_reversal"))
    assert reversal.refs["commission"] == row.id and reversal.refs["lot_sale"] == sale_id
    with pytest.raises(exchange.NotResolvable):
        exchange.resolve_dispute(admin, sale_id, "release")
    db.session.rollback()
    assert release_due_sales.__wrapped__() == 0
    events = {(e.user_id, e.event) for e in db.session.scalars(select(ExchangeEvent))}
    assert {(buyer.id, "disputed"), (seller.id, "disputed"), (buyer.id, "refunded"),
            (seller.id, "refunded")} <= events
    assert_ledger_clean()


def test_dispute_rules(app, app_context):
    sale_id, seller, _, buyer = sold()
    with pytest.raises(NotFound):
        exchange.open_dispute(seller, sale_id, "not mine to dispute")
    with pytest.raises(exchange.ReasonRequired):
        exchange.open_dispute(buyer, sale_id, "  ")
    with pytest.raises(exchange.NotDisputable):
        exchange.open_dispute(buyer, sale_id, "too late", now=utcnow() + timedelta(days=8))
    db.session.rollback()
    exchange.open_dispute(buyer, sale_id, "wrong")
    db.session.commit()
    sale = exchange.resolve_dispute(make_user("admin"), sale_id, "release")
    db.session.commit()
    assert sale.status == "released" and available(seller.id) == PRICE - PRICE * 5 // 100
    assert_ledger_clean()


def test_release_job_pays_the_seller_once_minus_the_exchange_commission(app, app_context):
    sale_id, seller, _, _ = sold(price=33_33)
    assert release_due_sales.__wrapped__() == 0  # still in its guarantee period
    db.session.get(LotSale, sale_id).guarantee_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert release_due_sales.__wrapped__() == 1
    assert release_due_sales.__wrapped__() == 0
    assert exchange.release_if_due(sale_id) is False
    cut = 33_33 * 500 // 10_000  # 1.66: floored, the seller keeps the odd unit
    assert available(seller.id) == 33_33 - cut
    assert ledger.balance(AccountKind.NETWORK_REVENUE, 0, "USD") == cut
    sale = db.session.get(LotSale, sale_id)
    assert (sale.status, sale.seller_amount, sale.exchange_fee) == ("released", 33_33 - cut, cut)
    assert db.session.query(LedgerTransaction).filter_by(reason="lot_release").count() == 1
    assert_ledger_clean()


def test_release_job_in_a_real_worker_twice(app, app_context):
    from cpa_network.jobs import get_queue

    sale_id, seller, _, _ = sold()
    db.session.get(LotSale, sale_id).guarantee_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    get_queue("payouts").enqueue(release_due_sales)
    get_queue("payouts").enqueue(release_due_sales)
    finished = run_worker_burst(app, "--queue", "payouts")
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert available(seller.id) == PRICE - PRICE * 5 // 100
    assert db.session.query(LedgerTransaction).filter_by(reason="lot_release").count() == 1
    assert_ledger_clean()


def test_a_dispute_and_the_release_job_race_one_wins(app, app_context):
    sale_id, _, _, buyer = sold()
    db.session.get(LotSale, sale_id).guarantee_until = utcnow() + timedelta(seconds=2)
    db.session.commit()
    later = utcnow() + timedelta(seconds=3)
    assert exchange.release_if_due(sale_id, now=later)
    db.session.commit()
    with pytest.raises(exchange.NotDisputable):
        exchange.open_dispute(buyer, sale_id, "late")
    db.session.rollback()
    assert_ledger_clean()


def test_a_purchase_cannot_be_resold_until_it_is_settled(app, app_context):
    """A buyer who could resell a referral during the guarantee period or a dispute would, on a
    refund, be paid twice while the seller never got the referral back."""
    sale_id, _, referral, buyer = sold()
    later = utcnow() + timedelta(days=8)  # the buyer has had it for the 7 days
    user(referral.id).last_seen_at = later - timedelta(hours=1)
    db.session.commit()
    with pytest.raises(exchange.PurchaseUnsettled, match="guarantee period or disputed"):
        exchange.list_referral(user(buyer.id), referral.id, PRICE, "USD", now=later)
    db.session.rollback()
    exchange.open_dispute(user(buyer.id), sale_id, "looks pumped")
    db.session.commit()
    with pytest.raises(exchange.PurchaseUnsettled):
        exchange.list_referral(user(buyer.id), referral.id, PRICE, "USD", now=later)
    db.session.rollback()
    exchange.resolve_dispute(make_user("admin"), sale_id, "release", now=later)
    db.session.commit()
    relisted = exchange.list_referral(user(buyer.id), referral.id, PRICE, "USD", now=later)
    db.session.commit()
    assert relisted.status == "listed"
    assert_ledger_clean()


def test_a_refund_that_cannot_return_the_referral_is_refused_and_changes_nothing(app,
                                                                                  app_context):
    sale_id, seller, referral, buyer = sold()
    exchange.open_dispute(buyer, sale_id, "looks pumped")
    db.session.commit()
    elsewhere = make_user("publisher")
    user(referral.id).referred_by_id = elsewhere.id  # no longer the buyer's (say, an operator)
    db.session.commit()
    with pytest.raises(exchange.ReferralNotReturnable, match="Nothing has changed"):
        exchange.resolve_dispute(make_user("admin"), sale_id, "refund")
    db.session.rollback()
    assert db.session.get(LotSale, sale_id).status == "disputed"
    assert available(buyer.id) == 0 and available(seller.id) == 0
    assert ledger.balance(AccountKind.EXCHANGE_ESCROW, sale_id, "USD") == PRICE
    assert user(referral.id).referred_by_id == elsewhere.id
    assert_ledger_clean()


def test_a_refund_withdraws_the_buyers_open_lot_of_the_referral(app, app_context):
    """A lot the buyer listed before resales of unsettled purchases were refused: the refund
    gives the referral back to the seller, so the buyer's lot leaves the exchange and the
    seller may list the referral again."""
    sale_id, seller, referral, buyer = sold()
    stale = Lot(seller_id=buyer.id, referral_id=referral.id, price=PRICE, currency="USD",
                status="listed", listed_at=utcnow())
    db.session.add(stale)
    db.session.commit()
    exchange.open_dispute(user(buyer.id), sale_id, "looks pumped")
    db.session.commit()
    exchange.resolve_dispute(make_user("admin"), sale_id, "refund")
    db.session.commit()
    assert user(referral.id).referred_by_id == seller.id
    assert db.session.get(Lot, stale.id).status == "withdrawn"
    assert available(buyer.id) == PRICE
    withdrawn = db.session.scalar(select(ExchangeEvent).where(
        ExchangeEvent.lot_id == stale.id, ExchangeEvent.event == "withdrawn"))
    assert withdrawn.user_id == buyer.id and "refunded" in withdrawn.note
    again = exchange.list_referral(user(seller.id), referral.id, PRICE, "USD")
    db.session.commit()
    assert again.status == "listed"
    assert_ledger_clean()


def test_the_same_listing_sent_twice_at_once_is_already_listed(app, app_context):
    seller = make_user("publisher")
    referral = make_referral(seller)
    seller_id, referral_id = seller.id, referral.id

    def list_it():
        return exchange.list_referral(db.session.get(User, seller_id), referral_id, PRICE,
                                      "USD").id

    first, second = run_overlapping(app, list_it)
    assert isinstance(first, int), first
    assert isinstance(second, exchange.AlreadyListed), second
    assert db.session.query(Lot).filter_by(referral_id=referral_id).count() == 1


def test_blocking_a_user_withdraws_the_lots_they_sell_and_the_lot_that_sells_them(app,
                                                                                   app_context):
    from cpa_network.accounts.services import block_user
    from publishers import exchange_browse

    seller = make_user("publisher")
    first, second = listed(seller), listed(seller)
    other = listed()
    block_user(user(seller.id), "bot farm")
    block_user(user(other.referral_id), "bot")
    db.session.commit()
    for lot in (first, second, other):
        assert db.session.get(Lot, lot.id).status == "withdrawn"
    assert exchange_browse.browse(exchange_browse.BrowseQuery()) == []
    notes = {e.lot_id: e.note for e in db.session.scalars(
        select(ExchangeEvent).where(ExchangeEvent.event == "withdrawn"))}
    assert set(notes) == {first.id, second.id, other.id}
    assert all("blocked" in note for note in notes.values())
    buyer = make_user("publisher")
    fund_available(buyer.id, PRICE)
    with pytest.raises(NotFound):  # a withdrawn lot is the seller's business only
        exchange.buy_lot(user(buyer.id), first.id)
    db.session.rollback()
    assert available(buyer.id) == PRICE


@pytest.mark.parametrize(("party", "error", "message"), [
    ("seller_id", exchange.SellerBlocked, "The seller is blocked"),
    ("referral_id", exchange.ReferralBlocked, "This referral is blocked"),
])
def test_a_lot_with_a_blocked_party_cannot_be_bought(app, app_context, party, error, message):
    """A lot still listed although its seller or referral is blocked (blocked before lots were
    withdrawn on a block) says why it cannot be bought, not that someone else bought it."""
    lot = listed()
    user(getattr(lot, party)).blocked_at = utcnow()  # as before the block listener existed
    db.session.commit()
    buyer = make_user("publisher")
    fund_available(buyer.id, PRICE)
    with pytest.raises(error, match=message):
        exchange.buy_lot(user(buyer.id), lot.id)
    db.session.rollback()
    assert db.session.get(Lot, lot.id).status == "listed" and available(buyer.id) == PRICE
    assert_ledger_clean()


def test_release_job_leaves_a_blocked_sellers_sale_to_the_operator(app, app_context):
    from cpa_network.accounts.services import block_user

    sale_id, seller, referral, buyer = sold()
    block_user(user(seller.id), "bot farm")
    db.session.get(LotSale, sale_id).guarantee_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert release_due_sales.__wrapped__() == 0
    assert release_due_sales.__wrapped__() == 0
    sale = db.session.get(LotSale, sale_id)
    assert sale.status == "disputed" and "seller is blocked" in sale.dispute_reason
    assert available(seller.id) == 0
    assert ledger.balance(AccountKind.EXCHANGE_ESCROW, sale_id, "USD") == PRICE
    exchange.resolve_dispute(make_user("admin"), sale_id, "refund", "fraud")
    db.session.commit()
    assert available(buyer.id) == PRICE and user(referral.id).referred_by_id == seller.id
    assert_ledger_clean()


def test_a_retried_purchase_answers_with_the_purchase_and_charges_once(app, app_context):
    sale_id, _, _, buyer = sold()
    lot_id = db.session.get(LotSale, sale_id).lot_id
    fund_available(buyer.id, PRICE)  # money to be charged twice, if it were
    with pytest.raises(exchange.AlreadyBought) as caught:
        exchange.buy_lot(user(buyer.id), lot_id)
    db.session.rollback()
    assert caught.value.sale.id == sale_id
    assert available(buyer.id) == PRICE
    assert db.session.query(LotSale).count() == 1
    assert_ledger_clean()


def test_a_purchase_double_submitted_at_once_answers_with_the_one_purchase(app, app_context):
    lot = listed()
    buyer = make_user("publisher")
    fund_available(buyer.id, 2 * PRICE)
    buyer_id, lot_id = buyer.id, lot.id

    def buy():
        try:
            return "bought", exchange.buy_lot(db.session.get(User, buyer_id), lot_id).id
        except exchange.AlreadyBought as already:
            return "already bought", already.sale.id

    first, second = run_overlapping(app, buy)
    assert first[0] == "bought" and second == ("already bought", first[1]), (first, second)
    assert available(buyer_id) == PRICE
    assert_ledger_clean()
