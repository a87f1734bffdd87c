"""Conversions the escrow could not cover: funded oldest first when the advertiser tops up
(the deposit's credit enqueues the job; a real worker runs it), and the offer comes back."""

from sqlalchemy import select

from cpa_network.extensions import db
from cpa_network.notifications.models import Notification
from offers import status as st
from offers.services import GoalData
from offers.tasks import fund_all_awaiting
from payouts import deposits
from payouts.gateway import SandboxGateway
from tests.conftest import run_worker_burst
from tests.offers.conversion_helpers import (
    assert_books_balance,
    conversions,
    live_setup,
    postback_url,
    stored_click,
)
from tests.payouts.helpers import fund_escrow


def _top_up(advertiser, amount: int) -> None:
    """A sandbox deposit through the real services: its credit enqueues the funding job."""
    sandbox = SandboxGateway()
    deposit = deposits.create_deposit(advertiser, amount, "USD", gateway=sandbox)
    deposits.open_checkout(deposit, "", "", gateway=sandbox)
    db.session.commit()


def _statuses() -> list[tuple[str, str]]:
    return [(c.txid, c.status) for c in conversions()]


def test_a_top_up_funds_waiting_conversions_oldest_first_and_resumes_the_offer(
        app, client, app_context):
    offer, link, _click = live_setup(escrow=40_00, goals=(
        GoalData("small", "fixed", 10_00), GoalData("big", "fixed", 30_00)))
    for txid, goal in (("1", "big"), ("2", "big"), ("3", "small"), ("4", "small")):
        client.get(postback_url(offer, stored_click(link, ip=f"5.18.7.{txid}"), goal=goal,
                                txid=txid))
    assert _statuses() == [("1", "pending"), ("2", "awaiting_funds"), ("3", "awaiting_funds"),
                           ("4", "awaiting_funds")]
    _top_up(offer.advertiser, 40_00)  # escrow 7 + 40 = 47: 33 for #2, 11 for #3, #4 waits
    assert run_worker_burst(app, "--no-beat").returncode == 0
    assert _statuses() == [("1", "pending"), ("2", "pending"), ("3", "pending"),
                           ("4", "awaiting_funds")]
    db.session.expire_all()
    assert offer.status == st.PAUSED  # still a conversion waiting
    _top_up(offer.advertiser, 50_00)
    assert run_worker_burst(app, "--no-beat").returncode == 0
    assert {status for _txid, status in _statuses()} == {"pending"}
    db.session.expire_all()
    assert (offer.status, offer.paused_reason) == (st.ACTIVE, "")
    kinds = set(db.session.scalars(select(Notification.kind).where(
        Notification.user_id == offer.advertiser_id)))
    assert {"offer_paused_funds", "conversions_funded", "offer_resumed_funds"} <= kinds
    funded = conversions()[1]
    assert funded.hold_until is not None  # the hold period starts when it is funded
    assert_books_balance()


def test_the_periodic_job_funds_what_no_deposit_job_announced(client, app, app_context):
    offer, link, click_id = live_setup(escrow=11_00)
    client.get(postback_url(offer, click_id, txid="1"))
    client.get(postback_url(offer, stored_click(link, ip="5.18.8.1"), txid="2"))
    assert [s for _t, s in _statuses()] == ["pending", "awaiting_funds"]
    fund_escrow(offer.advertiser_id, 30_00, key="money-from-elsewhere")
    with app.app_context():
        assert fund_all_awaiting() == 1
        assert fund_all_awaiting() == 0  # run twice: funded once
    assert [s for _t, s in _statuses()] == ["pending", "pending"]
    assert_books_balance()


def test_a_waiting_conversion_can_be_rejected_without_money_moving(client, app_context):
    from offers import review

    offer, link, click_id = live_setup(escrow=11_00)
    client.get(postback_url(offer, click_id, txid="1"))
    client.get(postback_url(offer, stored_click(link, ip="5.18.8.2"), txid="2"))
    waiting = conversions()[1]
    review.decide(offer.advertiser, waiting.id, "reject", "Duplicate customer")
    db.session.commit()
    assert [s for _t, s in _statuses()] == ["pending", "rejected"]
    assert_books_balance()
