"""Money moves only after the confirmation step: without `confirmed` the page asks, states the
amount and currency, and nothing moves; with it the money moves once."""

from sqlalchemy import func, select

from cpa_network.extensions import db
from payouts import escrow
from payouts.models import EscrowRefund
from tests.payouts.helpers import confirmation_form
from tests.payouts.test_refunds import stripe_funded_advertiser


def test_withdrawing_escrow_asks_first(client, app_context, stripe_fake):
    advertiser_id, _session = stripe_funded_advertiser(client, stripe_fake)
    asked = client.submit("/balance/withdraw", {"amount": "300.00", "currency": "USD"},
                          page="/balance")
    assert asked.status_code == 200 and "Withdraw $300.00?" in asked.get_data(as_text=True)
    assert escrow.escrow_balance(advertiser_id, "USD") == 1000_00
    assert db.session.scalar(select(func.count()).select_from(EscrowRefund)) == 0
    done = client.post("/balance/withdraw",
                       data=confirmation_form(client, "/balance/withdraw", "300.00", "/balance"))
    assert done.status_code == 302
    assert escrow.escrow_balance(advertiser_id, "USD") == 700_00
    assert db.session.scalar(select(func.count()).select_from(EscrowRefund)) == 1
