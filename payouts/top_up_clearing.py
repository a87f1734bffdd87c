"""Card top-ups clear before they can be withdrawn.

A publisher's top-up (payouts/deposits.py) can be spent on the exchange at once, but its card
payment can be disputed for weeks after it succeeded. A top-up withdrawn to a bank the same
day and then charged back would leave only a debt (payouts/dispute_debts.py), as good as the
publisher's next earnings: the classic stolen-card cash-out. So what the card top-ups of the
last TOP_UP_CLEARING_DAYS brought in cannot be withdrawn yet; earnings stay withdrawable as
before. A top-up the issuer took back no longer counts (its money already left), and a sandbox
top-up moves no real money and cannot be disputed.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from cpa_network.database import utcnow
from cpa_network.extensions import db
from payouts import dispute_debts, ledger
from payouts.dispute_models import FUNDS_OWED, DepositDispute
from payouts.models import AccountKind, Deposit, DepositStatus

K = AccountKind
CARD_GATEWAY = "stripe"


def clearing_since(now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=current_app.config["TOP_UP_CLEARING_DAYS"])


def _recent_top_ups(publisher_id: int, currency: str, now: datetime | None):
    return (Deposit.owner_id == publisher_id,
            Deposit.account_kind == K.PUBLISHER_AVAILABLE.value,
            Deposit.currency == currency.upper(), Deposit.gateway == CARD_GATEWAY,
            Deposit.status == DepositStatus.SUCCEEDED.value,
            Deposit.credited_at > clearing_since(now))


def held(publisher_id: int, currency: str, now: datetime | None = None) -> int:
    """What the publisher's card top-ups still clearing hold of their available balance."""
    recent = _recent_top_ups(publisher_id, currency, now)
    credited = db.session.scalar(select(func.coalesce(func.sum(Deposit.amount), 0))
                                 .where(*recent))
    if not credited:
        return 0
    taken_back = db.session.scalar(
        select(func.coalesce(func.sum(DepositDispute.amount), 0))
        .join(Deposit, DepositDispute.deposit_id == Deposit.id)
        .where(*recent, DepositDispute.funds.in_(FUNDS_OWED)))
    return max(int(credited) - int(taken_back or 0), 0)


def clears_at(publisher_id: int, currency: str, now: datetime | None = None) -> datetime | None:
    """When the last of the publisher's clearing top-ups becomes withdrawable (None: none)."""
    last = db.session.scalar(select(func.max(Deposit.credited_at))
                             .where(*_recent_top_ups(publisher_id, currency, now)))
    if last is None:
        return None
    return last + timedelta(days=current_app.config["TOP_UP_CLEARING_DAYS"])


def withdrawable(publisher_id: int, currency: str, now: datetime | None = None) -> int:
    """What a withdrawal could take now (see `free`)."""
    return free(ledger.balance(K.PUBLISHER_AVAILABLE, publisher_id, currency),
                dispute_debts.owed_total(publisher_id, K.PUBLISHER_AVAILABLE, currency),
                held(publisher_id, currency, now))


def free(available: int, owed: int, clearing: int) -> int:
    """Available, less what is owed for a chargeback (repaid first) and less the top-ups still
    clearing; never below zero."""
    return max(available - owed - clearing, 0)
