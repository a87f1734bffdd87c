"""Referral commissions (one row per upline paid on an approved conversion) and refbacks.

The ledger is the money; these rows are its explanation: who earned what through whom, so the
referral page and the exchange can show what a referral produced for its upline, month by month,
and a refund on the exchange can find (and claw back) what a buyer earned in the guarantee period.
"""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cpa_network.database import UTCDateTime, utcnow
from cpa_network.extensions import db
from payouts.models import BigId

MAX_REFBACK_BP = 8000  # an upline returns at most 80 % of what a referral earns them


class ReferralCommission(db.Model):
    """What `upline_id` earned at `level` on conversion `conversion_id` of `source_id`.

    `via_id` is the upline's direct referral on the path (the source itself at level 1): the
    commissions that travel with that referral when it is sold. `amount` is the upline's gross
    share of the network fee; `refback` of it went to `via_id`; the upline kept the difference.
    """

    __tablename__ = "referral_commissions"
    __table_args__ = (
        UniqueConstraint("conversion_id", "level", name="commission_once_per_level"),
        CheckConstraint("level BETWEEN 1 AND 9", name="level_valid"),
        CheckConstraint("amount > 0 AND refback >= 0 AND refback <= amount",
                        name="amounts_valid"),
        Index("ix_referral_commissions_upline_created", "upline_id", "created_at"),
        Index("ix_referral_commissions_via_created", "via_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversion_id: Mapped[int] = mapped_column(BigInteger)
    level: Mapped[int] = mapped_column()
    source_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    via_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    upline_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    refback: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when an exchange refund clawed it back (the referral went back to its seller).
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def kept(self) -> int:
        return self.amount - self.refback


class Refback(db.Model):
    """The share of its level-1 commission the referral's upline returns to it.

    Keyed by the referral, not the pair: the terms stay with the referral when it is sold.
    """

    __tablename__ = "referral_refbacks"
    __table_args__ = (CheckConstraint(f"refback_bp BETWEEN 0 AND {MAX_REFBACK_BP}",
                                      name="refback_in_range"),)

    referral_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    refback_bp: Mapped[int] = mapped_column(default=0)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
