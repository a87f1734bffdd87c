"""Rating snapshots: one row per publisher x scope (the network, or one offer category), and one
per offer, rewritten by the recompute job (`publishers.tasks.recompute_ratings`)."""

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cpa_network.database import UTCDateTime, utcnow
from cpa_network.extensions import db

NETWORK_SCOPE = "all"


class PublisherRating(db.Model):
    """A publisher's score (0-100) in one scope, with the parts that make it up."""

    __tablename__ = "publisher_ratings"
    __table_args__ = (
        UniqueConstraint("publisher_id", "scope", name="publisher_rating_once"),
        Index("ix_publisher_ratings_scope_rank", "scope", "rank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    publisher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # "all" (the whole network) or an offer category code.
    scope: Mapped[str] = mapped_column(String(24), default=NETWORK_SCOPE)
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column()
    ranked: Mapped[int] = mapped_column()  # how many publishers the scope ranks
    # The score over the same window a trend period (7 days) earlier; None without history.
    previous_score: Mapped[float | None] = mapped_column(Float)
    # {part name: points}, and the weighted inputs the parts came from (see README, Ratings).
    parts: Mapped[dict] = mapped_column(JSON, default=dict)
    inputs: Mapped[dict] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OfferRating(db.Model):
    """An offer as publishers judge it, over the rating window: EPC, CR, approval, hold time."""

    __tablename__ = "offer_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"),
                                          unique=True)
    clicks: Mapped[int] = mapped_column(default=0)
    approved: Mapped[int] = mapped_column(default=0)
    decided: Mapped[int] = mapped_column(default=0)
    # Approved payout, in the offer currency's minor units.
    payout: Mapped[int] = mapped_column(BigInteger, default=0)
    # EPC in minor units per click; None when there were no clicks.
    epc: Mapped[float | None] = mapped_column(Float)
    cr: Mapped[float | None] = mapped_column(Float)
    approval_rate: Mapped[float | None] = mapped_column(Float)
    avg_hold_hours: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PublisherRatingDay(db.Model):
    """A publisher's network score as it stood at the end of a (UTC) day: the rating trend.
    The recompute job keeps today's row current; earlier days stay as they were."""

    __tablename__ = "publisher_rating_days"
    __table_args__ = (UniqueConstraint("publisher_id", "day", name="publisher_rating_day_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    publisher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column()
