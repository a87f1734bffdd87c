"""Card disputes (chargebacks) of deposits: one row per Stripe dispute, its money steps kept
beside Stripe's own status. The ledger is the money (payouts/disputes.py); this row says why it
moved and what the owner still owes."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, case
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cpa_network.database import UTCDateTime, utcnow
from cpa_network.extensions import db
from payouts.models import Deposit


class DisputeFunds(StrEnum):
    """Where the disputed money is: none -> withdrawn -> reinstated | lost. An inquiry (Stripe's
    `warning_*` statuses) stays at none unless it becomes a chargeback."""

    NONE = "none"  # recorded; the issuer has not taken the money (an inquiry), or not yet
    WITHDRAWN = "withdrawn"  # taken at Stripe: in the owner's `disputed` account
    REINSTATED = "reinstated"  # the dispute was won: the money came back
    LOST = "lost"  # the dispute was lost: the money is gone for good


# Steps in which a shortfall is still the owner's debt (a won dispute gave everything back).
FUNDS_OWED = (DisputeFunds.WITHDRAWN, DisputeFunds.LOST)
# Steps of a dispute not decided yet.
UNDECIDED = (DisputeFunds.NONE, DisputeFunds.WITHDRAWN)


class DepositDispute(db.Model):
    """A dispute of one deposit's card payment. `taken_amount` came out of the owner's balance
    (escrow or available) when the money was withdrawn; `shortfall_amount` is what that balance
    lacked (committed to conversions already), fronted by the network and owed by the owner;
    `recovered_amount` of it was repaid from later money."""

    __tablename__ = "deposit_disputes"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("funds IN ('none', 'withdrawn', 'reinstated', 'lost')",
                        name="funds_known"),
        CheckConstraint("(funds = 'none' AND taken_amount = 0 AND shortfall_amount = 0) OR "
                        "(funds <> 'none' AND taken_amount >= 0 AND shortfall_amount >= 0 AND "
                        "taken_amount + shortfall_amount = amount)", name="split_is_amount"),
        CheckConstraint("recovered_amount >= 0 AND recovered_amount <= shortfall_amount",
                        name="recovered_within_shortfall"),
        Index("ix_deposit_disputes_owner_currency", "owner_id", "currency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_dispute_id: Mapped[str] = mapped_column(String(255), unique=True)
    deposit_id: Mapped[int] = mapped_column(ForeignKey("deposits.id"), index=True)
    # The deposit's owner and account kind, copied: debts are looked up by owner and kind.
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    account_kind: Mapped[str] = mapped_column(String(32))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(40))  # Stripe's: needs_response, won, lost...
    reason: Mapped[str] = mapped_column(String(60), default="")  # Stripe's: fraudulent...
    funds: Mapped[str] = mapped_column(String(16), default=DisputeFunds.NONE)
    taken_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    shortfall_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    recovered_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    evidence_due_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # reinstated or lost

    deposit: Mapped[Deposit] = relationship()

    # Both also in SQL (the debt queries, the operator's page): one definition each.
    @hybrid_property
    def owed(self) -> int:
        """What the owner still owes the network for this dispute."""
        if self.funds not in FUNDS_OWED:
            return 0
        return self.shortfall_amount - self.recovered_amount

    @owed.inplace.expression
    @classmethod
    def _owed_expression(cls):
        return case((cls.funds.in_(FUNDS_OWED), cls.shortfall_amount - cls.recovered_amount),
                    else_=0)

    @hybrid_property
    def is_open(self) -> bool:
        """Not decided yet: the operator may still have evidence to send."""
        return self.funds in UNDECIDED and self.status not in CLOSED_STATUSES

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls):
        return cls.funds.in_(UNDECIDED) & cls.status.not_in(CLOSED_STATUSES)


# Stripe's final dispute statuses.
CLOSED_STATUSES = frozenset({"won", "lost", "warning_closed", "prevented", "charge_refunded"})
# Statuses of a dispute whose money the issuer has taken: a chargeback, not an inquiry
# (`warning_*`) or one prevented before it became a chargeback.
CHARGEBACK_STATUSES = frozenset({"needs_response", "under_review", "won", "lost"})
