"""A publisher's card top-up charged back: what the issuer took shows on the earnings page and in
`GET /api/v1/balances`, and what available could not cover is owed and repaid before the
publisher spends again (a lot purchase, as a withdrawal)."""

import pytest
from sqlalchemy import select

from cpa_network.extensions import db
from payouts import ledger
from payouts.dispute_models import DepositDispute
from payouts.models import AccountKind, Deposit
from publishers import exchange
from publishers.exchange_buying import TopUpFirst
from publishers.exchange_models import LotSale
from tests.factories import make_user
from tests.payouts.conftest import deliver
from tests.payouts.test_disputes import assert_ledger_ok, send, sign_in, usd_balances
from tests.publishers.exchange_helpers import available, fund_available, make_referral

K = AccountKind


def listed_lot(price: int):
    seller = make_user("publisher")
    lot = exchange.list_referral(seller, make_referral(seller).id, price, "USD")
    db.session.commit()
    return lot


def top_up_paid(client, stripe_fake, publisher, amount: str) -> Deposit:
    """The publisher tops up `amount` USD on the earnings page; Stripe's webhook credits it."""
    client.login(publisher.email)
    client.submit("/earnings/top-up", {"amount": amount, "currency": "USD", "confirmed": "yes"},
                  page="/earnings")
    deposit = db.session.scalar(select(Deposit).where(Deposit.owner_id == publisher.id)
                                .order_by(Deposit.id.desc()))
    session = stripe_fake.complete_checkout(deposit.checkout_session_id)
    assert deliver(client, stripe_fake.event("checkout.session.completed", session)).json[
        "outcome"] == "credited"
    return deposit


@pytest.fixture
def charged_back(client, app_context, stripe_fake):
    """A publisher topped up 100.00, spent 70.00 of it on a lot, then the whole top-up was
    charged back: available gave its 30.00, 70.00 is owed."""
    publisher = make_user("publisher", email="pub@example.com")
    deposit = top_up_paid(client, stripe_fake, publisher, "100.00")
    exchange.buy_lot(publisher, listed_lot(70_00).id)
    db.session.commit()
    assert available(publisher.id) == 30_00
    assert send(client, stripe_fake, "created",
                stripe_fake.dispute(deposit.payment_intent_id)) == "dispute_withdrawn"
    db.session.expire_all()
    row = db.session.scalar(select(DepositDispute))
    assert (row.account_kind, row.taken_amount, row.owed) == ("publisher_available", 30_00,
                                                              70_00)
    return publisher


def test_the_earnings_page_and_the_api_show_the_chargeback_and_the_debt(client, charged_back):
    publisher = charged_back
    row = usd_balances(client, publisher)
    assert (row["available"], row["top_up_disputed"], row["top_up_owed"]) == (0, 100_00, 70_00)
    assert "escrow" not in row and "owed" not in row  # not an advertiser
    page = client.get("/earnings").get_data(as_text=True)
    assert 'id="chargebacks"' in page and "You owe" in page
    assert "$100.00" in page and "$70.00" in page

    other = make_user("publisher", email="other@example.com")
    sign_in(client, other.email)  # someone else sees none of it
    assert 'id="chargebacks"' not in client.get("/earnings").get_data(as_text=True)
    assert usd_balances(client, other)["top_up_owed"] == 0


def test_a_lot_purchase_repays_the_debt_before_paying_for_the_lot(client, charged_back):
    publisher = charged_back
    lot = listed_lot(40_00)
    fund_available(publisher.id, 100_00)  # earnings reach available: 70.00 of it is owed
    with pytest.raises(TopUpFirst) as short:
        exchange.buy_lot(publisher, lot.id)
    # what is left once the debt is repaid
    assert "available balance of $30.00 is $10.00 short" in str(short.value.message)
    db.session.rollback()  # as the view does: the repayment went with the refused purchase
    assert available(publisher.id) == 100_00

    fund_available(publisher.id, 10_00)
    exchange.buy_lot(publisher, lot.id)
    db.session.commit()
    assert available(publisher.id) == 110_00 - 70_00 - 40_00
    dispute = db.session.scalar(select(DepositDispute))
    assert (dispute.recovered_amount, dispute.owed) == (70_00, 0)
    sale = db.session.scalar(select(LotSale).where(LotSale.lot_id == lot.id))
    assert ledger.balance(K.EXCHANGE_ESCROW, sale.id, "USD") == 40_00
    assert usd_balances(client, publisher)["top_up_owed"] == 0
    assert_ledger_ok()
