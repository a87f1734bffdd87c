"""A paid transfer taken back at the gateway (Stripe `transfer.reversed`: a reversal from the
dashboard, or Stripe's own), mirrored in the ledger so the books keep matching the money.

What came back leaves `publisher_paid` and returns to the publisher's available balance: the
network holds it again, and it is the publisher's until an operator decides otherwise (reject,
block). Stripe reports the cumulative `amount_reversed`; each new total is posted once (its key
names it), so repeated, partial and reordered events move each unit once.
"""

import logging

from flask_babel import lazy_gettext as _l

from cpa_network.errors import DomainError
from cpa_network.notifications.services import notify
from payouts import ledger
from payouts.currency import format_money
from payouts.models import AccountKind, PayoutStatus
from payouts.transfers import lock_payout, settle_paid
from payouts.withdrawals import refs_of

log = logging.getLogger(__name__)
K = AccountKind


class TransferNotRecorded(DomainError):
    """The webhook answers an error, so the event is not stored and Stripe sends it again."""

    code = "transfer_not_recorded"
    http_status = 503
    retry_after = 60
    default_message = _l("This payout's transfer is not recorded yet: send the event later.")


def record_reversal(payout_id: int, transfer_id: str, reversed_total: int) -> str:
    """Mirror a transfer whose reversals now total `reversed_total`; what happened."""
    payout = lock_payout(payout_id)
    if payout is None:
        return "unknown_payout"
    if payout.transfer_id is None and payout.status == PayoutStatus.SUBMITTING:
        # Made at the gateway, not recorded yet (a worker stopped in between; the retry or the
        # reconciler records it): stored now as "unknown", the reversal would be lost for good.
        raise TransferNotRecorded()
    if payout.transfer_id != transfer_id:
        return "unknown_payout"
    if payout.status == PayoutStatus.SUBMITTED:  # reversed before we booked it: book it first
        settle_paid([payout.id])
    if payout.status != PayoutStatus.PAID:
        log.error("transfer %s reversed, but payout %s is %s", transfer_id, payout.id,
                  payout.status)
        return "payout_not_paid"
    total = min(max(int(reversed_total), 0), payout.amount)
    added = total - payout.reversed_amount
    if added <= 0:  # this total (or a later, larger one) is booked already
        return "already_reversed"
    owner, currency = payout.publisher_id, payout.currency
    ledger.post_transaction(
        f"payout:{payout.id}:reversed:{total}",
        ledger.transfer(ledger.account(K.PUBLISHER_PAID, owner, currency),
                        ledger.account(K.PUBLISHER_AVAILABLE, owner, currency), added),
        "payout_reversed", {**refs_of(payout), "transfer": transfer_id, "reversed_total": total})
    payout.reversed_amount = total
    notify(owner, "payout_reversed", f"payout_reversed:{payout.id}:{total}", id=payout.id,
           amount=format_money(added, currency))
    return "reversed"
