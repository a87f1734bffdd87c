"""Weekly automatic payouts: publishers who turned them on get their available balance paid out,
once per ISO week and currency, as soon as it reaches their threshold.

The job runs hourly rather than once a week, so a week whose slot no worker saw is not lost;
the request key `auto:<publisher>:<currency>:<ISO week>` (UNIQUE) makes a week pay once however
often the job runs, and concurrently. The payouts are sent in batch jobs (PAYOUT_BATCH_SIZE per
job): a job per payout would pay a fork, a database connection and cold caches per transfer.
A payout whose batch job is lost is sent by the reconciler (it queues it on its own).
"""

import logging
from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.errors import DomainError
from cpa_network.extensions import db
from payouts import currency as currencies
from payouts import top_up_clearing
from payouts.connect import is_usable
from payouts.models import AccountKind, LedgerAccount, Payout, PayoutAccount
from payouts.withdrawals import request_withdrawal, threshold

log = logging.getLogger(__name__)


def week_key(publisher_id: int, currency: str, now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"auto:{publisher_id}:{currency}:{year}-W{week:02d}"


def run_automatic_payouts(now: datetime | None = None) -> dict[str, int]:
    """Request this week's automatic payouts; one transaction per payout."""
    now = now or utcnow()
    report: Counter = Counter()
    requested: list[int] = []
    accounts = db.session.scalars(select(PayoutAccount).where(
        PayoutAccount.automatic.is_(True), PayoutAccount.payouts_enabled.is_(True))).all()
    for account in accounts:
        publisher = db.session.get(User, account.user_id)
        if not is_usable(account) or publisher.is_blocked:
            report["skipped_account"] += 1
            continue
        for code in _available_currencies(publisher.id):
            # less what a chargeback debt takes first and the card top-ups still clearing
            available = top_up_clearing.withdrawable(publisher.id, code, now)
            key = week_key(publisher.id, code, now)
            if available < threshold(account, code) or _exists(key):
                continue
            try:
                payout = request_withdrawal(publisher, min(available, currencies.max_minor(code)),
                                            code, automatic=True, request_key=key, enqueue=False)
                db.session.commit()
                requested.append(payout.id)
                report["requested"] += 1
            except (DomainError, IntegrityError) as error:  # IntegrityError: a concurrent run
                db.session.rollback()
                log.info("automatic payout %s not requested: %s", key, error)
                report["refused"] += 1
    if requested:
        from payouts.tasks import enqueue_payout_batches  # tasks.py imports this module

        enqueue_payout_batches(requested)
        db.session.commit()  # nothing left to write: this commit releases the enqueues
    return dict(report)


def _available_currencies(publisher_id: int) -> list[str]:
    return list(db.session.scalars(
        select(LedgerAccount.currency).where(
            LedgerAccount.kind == AccountKind.PUBLISHER_AVAILABLE,
            LedgerAccount.owner_id == publisher_id, LedgerAccount.balance > 0)
        .order_by(LedgerAccount.currency)))


def _exists(request_key: str) -> bool:
    return db.session.scalar(select(Payout.id).where(Payout.request_key == request_key)) is not None
