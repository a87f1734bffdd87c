"""Repaying a chargeback debt and then holding escrow for waiting conversions, in one
transaction, takes its ledger locks in the order a postback takes its own: the two never wait on
each other in a circle (PostgreSQL would abort one of them as a deadlock)."""

import threading
import time

from sqlalchemy import select, text

from cpa_network.extensions import db
from offers import awaiting
from payouts import escrow, ledger
from payouts.dispute_models import DepositDispute
from payouts.models import AccountKind
from tests.factories import make_user
from tests.offers.conversion_helpers import conversions, postback_url, stored_click
from tests.offers.helpers import make_link, make_offer
from tests.payouts.helpers import fund_escrow
from tests.payouts.test_disputes import assert_ledger_ok, card_deposit, charged_back

K = AccountKind


def waiting_for_a_lock(timeout: float = 10) -> bool:
    """True once some backend of this database waits for a row lock."""
    deadline = time.monotonic() + timeout
    with db.engine.connect() as connection:
        while time.monotonic() < deadline:
            if connection.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")):
                return True
            connection.rollback()
            time.sleep(0.05)
    return False


def test_funding_after_a_repayment_queues_behind_a_postback_instead_of_deadlocking(
        app, client, app_context):
    advertiser = make_user("advertiser")
    # The hold's accounts made before the escrow: the pending fee has the lowest id, so a
    # postback's hold (which locks its accounts in id order) takes it first.
    for kind in (K.NETWORK_PENDING_FEE, K.ADVERTISER_HOLD, K.ADVERTISER_ESCROW):
        ledger.account(kind, advertiser.id, "USD")
    db.session.commit()
    card_deposit(advertiser, 100_00, "pi_lock")
    offer = make_offer(advertiser, escrow=0)
    link = make_link(offer)
    escrow.hold_conversion(10**9, advertiser.id, link.publisher_id, "USD", 90_00, 0)
    db.session.commit()
    assert charged_back("pi_lock", 100_00) == "dispute_withdrawn"  # 90.00 owed
    client.get(postback_url(offer, stored_click(link, ip="5.18.10.1"), txid="waits"))
    assert conversions()[-1].status == "awaiting_funds"
    fund_escrow(advertiser.id, 200_00, key="money-from-elsewhere")
    accounts = {kind: ledger.account(kind, advertiser.id, "USD").id
                for kind in escrow.HOLD_ACCOUNTS}

    fee_locked, go_on = threading.Event(), threading.Event()
    errors: list[Exception] = []
    funded: list[int] = []

    def postback_hold() -> None:
        """A postback's hold as ledger_post locks it: the pending fee, then the escrow."""
        with app.app_context():
            try:
                ledger.lock_accounts([accounts[K.NETWORK_PENDING_FEE]])
                fee_locked.set()
                go_on.wait(10)
                ledger.lock_accounts([accounts[K.ADVERTISER_ESCROW]])
                db.session.commit()
            except Exception as error:  # a deadlock: one side aborted
                errors.append(error)
                db.session.rollback()
            finally:
                fee_locked.set()
                db.session.remove()

    def funding_job() -> None:
        with app.app_context():
            try:
                fee_locked.wait(10)
                funded.append(awaiting.fund_awaiting(advertiser.id, "USD"))
                db.session.commit()
            except Exception as error:
                errors.append(error)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=postback_hold), threading.Thread(target=funding_job)]
    for thread in threads:
        thread.start()
    assert waiting_for_a_lock()  # the funding job is blocked by the postback's lock
    go_on.set()
    for thread in threads:
        thread.join(30)

    assert errors == [] and funded == [1]
    assert conversions()[-1].status == "pending"
    dispute = db.session.scalar(select(DepositDispute))
    assert (dispute.recovered_amount, dispute.owed) == (90_00, 0)
    assert_ledger_ok()
