"""Tracking links (publisher x offer), clicks, and the hourly rollups stats are served from."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cpa_network.accounts.models import User
from cpa_network.database import UTCDateTime, utcnow
from cpa_network.extensions import db
from offers.models import Offer

SUB_IDS = ("sub1", "sub2", "sub3", "sub4", "sub5")
SUB_MAX_LENGTH = 100


class TrackingLink(db.Model):
    """One per publisher x offer: a stable, unguessable token and a personal promo code."""

    __tablename__ = "tracking_links"
    __table_args__ = (UniqueConstraint("offer_id", "publisher_id", name="link_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    publisher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    promo_code: Mapped[str] = mapped_column(String(24), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    offer: Mapped[Offer] = relationship()
    publisher: Mapped[User] = relationship()


class Click(db.Model):
    """One visit through a link. The id is a ULID-like string: sortable by time, unguessable.

    On PostgreSQL the table is partitioned by month of `clicked_at` (offers.partitions), so the
    primary key includes it; `clicked_at` is always the millisecond the id encodes, which lets a
    lookup by id name its partition. Nothing references a click by foreign key: a conversion
    copies what it needs from its click, so old months can be dropped.

    The visitor's IP is never stored: `ip_hash` (a keyed HMAC) lets fraud checks compare
    addresses, `ip_prefix` (/24 or /48) shows the network.
    """

    __tablename__ = "clicks"
    __table_args__ = (
        Index("ix_clicks_link_clicked", "link_id", "clicked_at"),
        Index("ix_clicks_publisher_clicked", "publisher_id", "clicked_at"),
        Index("ix_clicks_ip_clicked", "ip_hash", "clicked_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    clicked_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("tracking_links.id"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    publisher_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sub1: Mapped[str] = mapped_column(String(SUB_MAX_LENGTH), default="")
    sub2: Mapped[str] = mapped_column(String(SUB_MAX_LENGTH), default="")
    sub3: Mapped[str] = mapped_column(String(SUB_MAX_LENGTH), default="")
    sub4: Mapped[str] = mapped_column(String(SUB_MAX_LENGTH), default="")
    sub5: Mapped[str] = mapped_column(String(SUB_MAX_LENGTH), default="")
    ip_hash: Mapped[str] = mapped_column(String(32))
    ip_prefix: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    referer: Mapped[str] = mapped_column(String(500), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    is_unique: Mapped[bool] = mapped_column(default=True)
    # Comma-separated reasons the click does not count: bot, flood, geo. Empty: a clean click.
    flags: Mapped[str] = mapped_column(String(40), default="")

    @property
    def is_flagged(self) -> bool:
        return bool(self.flags)


class TrafficHourly(db.Model):
    """Counts per hour x link x country x sub-ids, kept by the click flush (and, from issue 5 on,
    the conversion path). Idempotent: the flush adds only clicks it actually inserted."""

    __tablename__ = "traffic_hourly"
    __table_args__ = (
        UniqueConstraint("hour", "link_id", "country", *SUB_IDS, name="traffic_hourly_key"),
        Index("ix_traffic_hourly_publisher_hour", "publisher_id", "hour"),
        Index("ix_traffic_hourly_offer_hour", "offer_id", "hour"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"),
                                    primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime())
    link_id: Mapped[int] = mapped_column(ForeignKey("tracking_links.id"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    publisher_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    country: Mapped[str] = mapped_column(String(2), default="")
    sub1: Mapped[str] = mapped_column(String(SUB_MAX_LENGTH), default="")
    sub2: Mapped[str] = mapped_column(String(SUB_MAX_LENGTH), default="")
    sub3: Mapped[str] = mapped_column(String(SUB_MAX_LENGTH), default="")
    sub4: Mapped[str] = mapped_column(String(SUB_MAX_LENGTH), default="")
    sub5: Mapped[str] = mapped_column(String(SUB_MAX_LENGTH), default="")
    clicks: Mapped[int] = mapped_column(default=0, server_default="0")
    # Unique clicks that are not flagged (a flagged click never counts as a unique visitor).
    unique_clicks: Mapped[int] = mapped_column(default=0, server_default="0")
    flagged_clicks: Mapped[int] = mapped_column(default=0, server_default="0")
    # Non-rejected conversions and their publisher payout (offer currency, minor units).
    conversions: Mapped[int] = mapped_column(default=0, server_default="0")
    payout: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The same conversions by status, counted in the hour the conversion was created and moved
    # between columns when its status changes (in the transaction that changes it).
    pending_conversions: Mapped[int] = mapped_column(default=0, server_default="0")
    pending_payout: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    approved_conversions: Mapped[int] = mapped_column(default=0, server_default="0")
    approved_payout: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    rejected_conversions: Mapped[int] = mapped_column(default=0, server_default="0")
    rejected_payout: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    awaiting_conversions: Mapped[int] = mapped_column(default=0, server_default="0")
    awaiting_payout: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
