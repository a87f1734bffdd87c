"""A payout retried after its publisher was blocked sends nothing new: with no transfer made
yet it fails (the money returns to available); a transfer an earlier attempt made is money
already sent, and is recorded."""

import pytest

from cpa_network.accounts.models import User
from cpa_network.accounts.services import block_user
from cpa_network.extensions import db
from payouts import ledger, transfers, withdrawals
from payouts.gateway import GatewayError, SandboxGateway
from payouts.invariants import check_ledger
from payouts.models import AccountKind
from tests.payouts.helpers import connected_publisher, the_payout

K = AccountKind


class RecordingGateway(SandboxGateway):
    """The sandbox, counting the transfers it is asked to create."""

    def __init__(self, *, down: bool = False, sent_before: bool = False):
        self.down, self.sent_before, self.created = down, sent_before, []

    def create_transfer(self, payout):
        if self.down:  # the call fails before anything is sent
            raise GatewayError(retryable=True, gateway_code="APIConnectionError")
        self.created.append(payout.id)
        return super().create_transfer(payout)

    def find_transfer(self, payout):  # what an earlier attempt's lost answer created
        return super().create_transfer(payout) if self.sent_before else None


def a_payout_whose_first_attempt_failed() -> tuple[int, int]:
    publisher = connected_publisher(earned=500_00)
    payout = withdrawals.request_withdrawal(publisher, 200_00, "USD", enqueue=False)
    db.session.commit()
    payout_id, publisher_id = payout.id, publisher.id
    with pytest.raises(GatewayError):
        transfers.process_payouts([payout_id], gateway=RecordingGateway(down=True))
    assert the_payout(payout_id).status == "submitting"
    block_user(db.session.get(User, publisher_id), "fraud")
    db.session.commit()
    return payout_id, publisher_id


def test_a_retry_after_the_block_fails_the_payout_and_sends_nothing(app_context):
    payout_id, publisher_id = a_payout_whose_first_attempt_failed()
    retry = RecordingGateway()
    assert transfers.process_payouts([payout_id], gateway=retry) == {payout_id: "failed"}
    assert retry.created == []
    payout = the_payout(payout_id)
    assert (payout.status, payout.failure_code) == ("failed", "account_blocked")
    assert ledger.balance(K.PUBLISHER_AVAILABLE, publisher_id, "USD") == 500_00
    assert ledger.balance(K.PUBLISHER_PAID, publisher_id, "USD") == 0
    assert check_ledger().ok


def test_a_transfer_made_before_the_block_is_recorded(app_context):
    payout_id, publisher_id = a_payout_whose_first_attempt_failed()
    retry = RecordingGateway(sent_before=True)
    assert transfers.process_payouts([payout_id], gateway=retry) == {payout_id: "paid"}
    assert retry.created == []
    assert ledger.balance(K.PUBLISHER_PAID, publisher_id, "USD") == 200_00
    assert check_ledger().ok
