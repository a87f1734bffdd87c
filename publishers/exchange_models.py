"""The referral exchange: lots (a referral put up for sale), sales (a purchase in its guarantee
period and how it ended), the history both sides read, and refused listings (fraud signals)."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cpa_network.accounts.models import User
from cpa_network.database import UTCDateTime, utcnow
from cpa_network.extensions import db

LISTED, SOLD, WITHDRAWN = "listed", "sold", "withdrawn"
IN_GUARANTEE, DISPUTED, RELEASED, REFUNDED = "in_guarantee", "disputed", "released", "refunded"


class Lot(db.Model):
    """A referral its upline offers for sale. One open lot per referral (a partial unique index)."""

    __tablename__ = "exchange_lots"
    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("status IN ('listed', 'sold', 'withdrawn')", name="status_known"),
        CheckConstraint("referral_id <> seller_id", name="not_self"),
        Index("uq_exchange_lots_listed_referral", "referral_id", unique=True,
              postgresql_where=text("status = 'listed'"), sqlite_where=text("status = 'listed'")),
        Index("ix_exchange_lots_status_listed", "status", "listed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    price: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(12), default=LISTED)
    listed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    seller: Mapped[User] = relationship(foreign_keys=[seller_id])
    referral: Mapped[User] = relationship(foreign_keys=[referral_id])


class LotSale(db.Model):
    """A purchase: the buyer's money waits in EXCHANGE_ESCROW (owner: this row's id) until the
    guarantee period ends (released to the seller) or a dispute is upheld (refunded)."""

    __tablename__ = "exchange_sales"
    __table_args__ = (
        CheckConstraint("status IN ('in_guarantee', 'disputed', 'released', 'refunded')",
                        name="status_known"),
        CheckConstraint("buyer_id <> seller_id AND buyer_id <> referral_id",
                        name="buyer_not_party"),
        Index("ix_exchange_sales_due", "status", "guarantee_until"),
        # A referral's unsettled sale, asked for each referral on the exchange's sell page.
        Index("ix_exchange_sales_referral_status", "referral_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("exchange_lots.id"), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    price: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    commission_bp: Mapped[int] = mapped_column()  # the exchange's cut, fixed at purchase
    status: Mapped[str] = mapped_column(String(12), default=IN_GUARANTEE)
    bought_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    guarantee_until: Mapped[datetime] = mapped_column(UTCDateTime())
    # The seller's ownership date, restored if the sale is refunded.
    seller_referred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dispute_reason: Mapped[str] = mapped_column(String(1000), default="")
    disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution_note: Mapped[str] = mapped_column(String(1000), default="")
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    seller_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    exchange_fee: Mapped[int] = mapped_column(BigInteger, default=0)

    lot: Mapped[Lot] = relationship()
    buyer: Mapped[User] = relationship(foreign_keys=[buyer_id])
    seller: Mapped[User] = relationship(foreign_keys=[seller_id])
    referral: Mapped[User] = relationship(foreign_keys=[referral_id])


class ExchangeEvent(db.Model):
    """One step of a lot as one side saw it: the seller's sales history and the buyer's
    purchases history are these rows (`side`), each naming the ledger transaction if money moved."""

    __tablename__ = "exchange_events"
    __table_args__ = (
        CheckConstraint("side IN ('seller', 'buyer')", name="side_known"),
        Index("ix_exchange_events_user_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    side: Mapped[str] = mapped_column(String(6))
    lot_id: Mapped[int] = mapped_column(ForeignKey("exchange_lots.id"), index=True)
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_sales.id"))
    # listed, withdrawn, bought, sold, disputed, released, refunded
    event: Mapped[str] = mapped_column(String(12))
    amount: Mapped[int] = mapped_column(BigInteger, default=0)  # money to (+) or from (-) them
    currency: Mapped[str] = mapped_column(String(3))
    transaction_id: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(1000), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lot: Mapped[Lot] = relationship()


class ListingRefusal(db.Model):
    """Someone tried to list a user they are not the upline of: a fraud signal for the operator."""

    __tablename__ = "exchange_listing_refusals"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    referral_id: Mapped[int | None] = mapped_column(BigInteger)  # as sent; may name nobody
    actual_upline_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()
