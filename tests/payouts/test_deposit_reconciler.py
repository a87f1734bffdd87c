"""Deposits whose webhook never came: the reconciler asks Stripe and does what the event would
have done, once, whatever arrives later."""

from datetime import timedelta

from sqlalchemy import select, update

from cpa_network.database import utcnow
from cpa_network.extensions import db
from payouts import escrow, reconcile
from payouts.invariants import check_ledger
from payouts.models import Deposit
from tests.payouts.conftest import deliver
from tests.payouts.test_stripe_deposits import (
    ledger_transactions,
    paid_checkout,
    start_checkout,
    the_deposit,
)

SESSION_PATH = "/v1/checkout/sessions/"


def made_an_hour_ago(deposit: Deposit) -> None:
    db.session.execute(update(Deposit).where(Deposit.id == deposit.id).values(
        created_at=utcnow() - timedelta(hours=1)))
    db.session.commit()


def session_lookups(stripe_fake) -> int:
    return sum(call.path.startswith(SESSION_PATH)
               for call in stripe_fake.received("GET"))


def test_a_paid_deposit_whose_webhook_was_lost_is_credited_once(client, app_context,
                                                                 stripe_fake):
    advertiser_id, session = paid_checkout(client, stripe_fake, "300.00")
    made_an_hour_ago(the_deposit())

    first = reconcile.reconcile_payouts()
    second = reconcile.reconcile_payouts()

    assert first == {"deposit_credited": 1} and second == {}
    deposit = the_deposit()
    assert deposit.status == "succeeded" and deposit.payment_intent_id == session["payment_intent"]
    assert escrow.escrow_balance(advertiser_id, "USD") == 300_00
    # the webhook turns up after all: news of nothing
    late = deliver(client, stripe_fake.event("checkout.session.completed", session))
    assert late.json["outcome"] == "already_credited"
    assert escrow.escrow_balance(advertiser_id, "USD") == 300_00
    assert ledger_transactions() == 1
    assert check_ledger().ok


def test_a_recent_deposit_is_left_to_its_webhook(client, app_context, stripe_fake):
    paid_checkout(client, stripe_fake, "300.00")

    assert reconcile.reconcile_payouts() == {}
    assert session_lookups(stripe_fake) == 0
    assert the_deposit().status == "pending"


def test_an_open_checkout_waits_and_an_expired_one_is_closed(client, app_context, stripe_fake):
    advertiser_id, _session = paid_checkout(client, stripe_fake, "300.00")
    deposit = the_deposit()
    stripe_fake.objects[deposit.checkout_session_id].update(
        status="open", payment_status="unpaid", payment_intent=None)
    made_an_hour_ago(deposit)

    assert reconcile.reconcile_payouts() == {"deposit_open": 1}
    assert the_deposit().status == "pending"

    stripe_fake.objects[deposit.checkout_session_id]["status"] = "expired"
    assert reconcile.reconcile_payouts() == {"deposit_expired": 1}
    assert the_deposit().status == "expired"
    assert reconcile.reconcile_payouts() == {}
    assert escrow.escrow_balance(advertiser_id, "USD") == 0
    assert check_ledger().ok


def test_a_stripe_outage_leaves_the_deposit_for_the_next_pass(client, app_context, stripe_fake):
    advertiser_id, _session = paid_checkout(client, stripe_fake, "300.00")
    made_an_hour_ago(the_deposit())
    stripe_fake.fail_next("GET", SESSION_PATH + ".*", times=None)

    assert reconcile.reconcile_payouts() == {"deposit_gateway_error": 1}
    assert the_deposit().status == "pending"

    stripe_fake.failures.clear()
    assert reconcile.reconcile_payouts() == {"deposit_credited": 1}
    assert escrow.escrow_balance(advertiser_id, "USD") == 300_00


def test_a_session_that_does_not_match_its_deposit_credits_nothing(client, app_context,
                                                                   stripe_fake):
    advertiser_id, _session = paid_checkout(client, stripe_fake, "300.00")
    deposit = the_deposit()
    stripe_fake.objects[deposit.checkout_session_id]["amount_total"] = 30_00
    made_an_hour_ago(deposit)

    assert reconcile.reconcile_payouts() == {"deposit_unknown_deposit": 1}
    assert the_deposit().status == "pending"
    assert escrow.escrow_balance(advertiser_id, "USD") == 0


def test_a_page_left_refreshing_asks_stripe_at_most_the_limit(client, app, app_context,
                                                               stripe_fake, monkeypatch):
    """Stripe's rate limit is the platform's: a pending deposit's page asks it about the
    Checkout at most RATELIMIT_DEPOSIT_LOOKUP times per user, and past that still answers."""
    monkeypatch.setitem(app.config, "RATELIMIT_DEPOSIT_LOOKUP", "3 per minute")
    paid_checkout(client, stripe_fake, "300.00")
    deposit = the_deposit()

    pages = [client.get(f"/balance/deposits/{deposit.id}") for _ in range(5)]

    assert [page.status_code for page in pages] == [200] * 5
    assert ["Stripe has your payment." in page.get_data(as_text=True)
            for page in pages] == [True] * 3 + [False] * 2
    assert session_lookups(stripe_fake) == 3


def test_deposits_that_stay_open_do_not_keep_newer_ones_out_of_every_pass(
        client, app_context, stripe_fake, monkeypatch):
    """Three deposits, two per pass: the two that stay open go to the back once asked about."""
    monkeypatch.setattr(reconcile, "DEPOSITS_PER_PASS", 2)
    paid_checkout(client, stripe_fake, "100.00", paid=False)  # signs adv@example.com in
    for amount in ("200.00", "300.00"):
        start_checkout(client, amount)
        made = db.session.scalar(select(Deposit).order_by(Deposit.id.desc()))
        stripe_fake.complete_checkout(made.checkout_session_id, amount == "300.00")
    made = list(db.session.scalars(select(Deposit).order_by(Deposit.id)))
    for deposit in made:  # the first two: an asynchronous payment clearing for days
        made_an_hour_ago(deposit)

    assert reconcile.reconcile_payouts() == {"deposit_awaiting_payment": 2}
    assert reconcile.reconcile_payouts() == {"deposit_credited": 1, "deposit_awaiting_payment": 1}
    db.session.expire_all()
    assert [d.status for d in (db.session.get(Deposit, d.id) for d in made)] == [
        "pending", "pending", "succeeded"]
    assert check_ledger().ok
