"""Conversions and what hangs off them: cap counters, publishers' login addresses (fraud), the
postback log, and publishers' outgoing postbacks with their deliveries."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cpa_network.accounts.models import User
from cpa_network.database import UTCDateTime, utcnow
from cpa_network.extensions import db
from offers.models import Offer
from offers.tracking_models import SUB_MAX_LENGTH

BigId = BigInteger().with_variant(Integer(), "sqlite")
PENDING, APPROVED, REJECTED, AWAITING_FUNDS = "pending", "approved", "rejected", "awaiting_funds"
STATUSES = (PENDING, APPROVED, REJECTED, AWAITING_FUNDS)
SOURCES = ("postback", "pixel", "promo_code")
_AWAITING_PREDICATE = "status = 'awaiting_funds'"  # ix_conversions_awaiting's
_CUSTOMER_PREDICATE = "customer <> ''"  # ix_conversions_offer_goal_customer's


class Conversion(db.Model):
    """A goal reached, attributed to a click (postback, pixel) or to a promo code.

    The same offer + goal + txid is one conversion (a unique key); a once-per-click goal also
    has one conversion per click (`click_once` is the click id then, NULL otherwise, and NULLs
    never collide). Money: `payout` for the publisher and `fee` for the network, both in the
    offer's currency, held in escrow by the ledger while pending.
    """

    __tablename__ = "conversions"
    __table_args__ = (
        UniqueConstraint("offer_id", "goal_code", "txid", name="conversion_txid_once"),
        UniqueConstraint("offer_id", "goal_code", "click_once", name="conversion_click_once"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'awaiting_funds')",
                        name="status_known"),
        CheckConstraint("source IN ('postback', 'pixel', 'promo_code')", name="source_known"),
        CheckConstraint("payout > 0 AND fee >= 0 AND amount >= 0", name="amounts_valid"),
        Index("ix_conversions_advertiser_created", "advertiser_id", "created_at"),
        Index("ix_conversions_publisher_created", "publisher_id", "created_at"),
        Index("ix_conversions_offer_created", "offer_id", "created_at"),
        Index("ix_conversions_due", "status", "hold_until"),
        Index("ix_conversions_ip_created", "ip_hash", "created_at"),
        Index("ix_conversions_click", "click_id"),
        # Conversions waiting for funds are few and looked up on every new conversion.
        Index("ix_conversions_awaiting", "advertiser_id", "currency", "created_at",
              postgresql_where=text(_AWAITING_PREDICATE),
              sqlite_where=text(_AWAITING_PREDICATE)),
        # A goal that requires an earlier one asks whether the customer reached it; most
        # conversions name no customer and are left out.
        Index("ix_conversions_offer_goal_customer", "offer_id", "goal_code", "customer",
              postgresql_where=text(_CUSTOMER_PREDICATE),
              sqlite_where=text(_CUSTOMER_PREDICATE)),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    goal_code: Mapped[str] = mapped_column(String(40))
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    publisher_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    link_id: Mapped[int] = mapped_column(ForeignKey("tracking_links.id"))
    # No foreign key: the click may still wait in the Redis stream when its conversion arrives.
    click_id: Mapped[str | None] = mapped_column(String(26))
    click_once: Mapped[str | None] = mapped_column(String(26))
    source: Mapped[str] = mapped_column(String(10))
    txid: Mapped[str] = mapped_column(String(100))
    customer: Mapped[str] = mapped_column(String(100), default="")
    amount: Mapped[int] = mapped_column(BigInteger, default=0)  # the sale, minor units
    currency: Mapped[str] = mapped_column(String(3))
    payout: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16))
    # Held for the operator's fraud queue: not auto-approved, not approvable by the advertiser.
    held: Mapped[bool] = mapped_column(default=False)
    fraud_signals: Mapped[str] = mapped_column(String(120), default="")
    sub1: Mapped[str] = mapped_column(String(SUB_MAX_LENGTH), default="")
    sub2: Mapped[str] = mapped_column(String(SUB_MAX_LENGTH), default="")
    sub3: Mapped[str] = mapped_column(String(SUB_MAX_LENGTH), default="")
    sub4: Mapped[str] = mapped_column(String(SUB_MAX_LENGTH), default="")
    sub5: Mapped[str] = mapped_column(String(SUB_MAX_LENGTH), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    ip_hash: Mapped[str] = mapped_column(String(32), default="")
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the hold period ends and the conversion is approved unless decided earlier.
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_reason: Mapped[str] = mapped_column(String(500), default="")

    offer: Mapped[Offer] = relationship()
    publisher: Mapped[User] = relationship(foreign_keys=[publisher_id])

    @property
    def signals(self) -> list[str]:
        return self.fraud_signals.split(",") if self.fraud_signals else []

    @property
    def subs(self) -> dict[str, str]:
        return {f"sub{i}": getattr(self, f"sub{i}") for i in range(1, 6)}

    def __repr__(self) -> str:
        return f"<Conversion {self.id} {self.goal_code} {self.status}>"


# "Waits for funds" as a query must say it: the status as a literal, not a bound parameter.
# psycopg prepares a statement it has run five times, and PostgreSQL's generic plan for it can
# use the partial index only when the query states the index's predicate; with the status as a
# parameter it scanned every conversion, on every postback.
WAITING_FOR_FUNDS = Conversion.status == literal_column("'awaiting_funds'")
# Names a customer: stated as a literal, so the generic plan of a lookup by customer can use the
# partial index ix_conversions_offer_goal_customer (the same reason).
CUSTOMER_GIVEN = Conversion.customer != literal_column("''")
# Held for the operator's fraud review and not decided yet (the same reason).
HELD_UNDECIDED = (Conversion.held.is_(True), Conversion.status.in_(
    (literal_column("'pending'"), literal_column("'awaiting_funds'"))))
# "Has this status", for a list filtered by status (the same reason): the few undecided
# conversions are rarely in the planner's statistics, and the generic plan of `status = $1`
# guessed half of a decided history and scanned it. Keyed by STATUSES, so a filter's value
# is looked up here and never itself written into the SQL.
STATUS_IS = {status: Conversion.status == literal_column(f"'{status}'") for status in STATUSES}


class CapUsage(db.Model):
    """What a cap counts in one period: conversions and payout of an offer, or of one
    publisher on it (`publisher_id` 0 = the whole offer). A conversion locks the rows it
    counts in, so concurrent conversions can never go over a cap."""

    __tablename__ = "cap_usage"
    __table_args__ = (
        UniqueConstraint("offer_id", "publisher_id", "period", "period_start",
                         name="cap_usage_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"))
    publisher_id: Mapped[int] = mapped_column()
    period: Mapped[str] = mapped_column(String(6))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    conversions: Mapped[int] = mapped_column(default=0)
    payout: Mapped[int] = mapped_column(BigInteger, default=0)


class LoginAddress(db.Model):
    """Where a user logs in from, pseudonymised like click addresses (keyed hashes), so a
    conversion from a publisher's own address or device can be flagged as self-referral."""

    __tablename__ = "login_addresses"
    __table_args__ = (UniqueConstraint("user_id", "ip_hash", "device_hash",
                                       name="login_address_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    ip_hash: Mapped[str] = mapped_column(String(32))
    # A keyed hash of the /24 (or /48) network and the user agent: the same browser nearby.
    device_hash: Mapped[str] = mapped_column(String(32))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PostbackLog(db.Model):
    """Every conversion call, accepted or not, with its answer: the advertiser's debugger."""

    __tablename__ = "postback_log"
    __table_args__ = (Index("ix_postback_log_offer_received", "offer_id", "received_at"),
                      Index("ix_postback_log_received", "received_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(12))  # postback, pixel, promo_code, test
    method: Mapped[str] = mapped_column(String(8), default="GET")
    # The parameters as received, with `secret` and `signature` masked.
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    remote_prefix: Mapped[str] = mapped_column(String(45), default="")
    code: Mapped[str] = mapped_column(String(32))
    http_status: Mapped[int] = mapped_column()
    message: Mapped[str] = mapped_column(String(500), default="")
    conversion_id: Mapped[int | None] = mapped_column(BigId)


class PublisherPostback(db.Model):
    """A publisher's outgoing postback: the URL template we call on conversion events."""

    __tablename__ = "publisher_postbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    publisher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    url_template: Mapped[str] = mapped_column(String(1000), default="")
    on_created: Mapped[bool] = mapped_column(default=True)
    on_approved: Mapped[bool] = mapped_column(default=True)
    on_rejected: Mapped[bool] = mapped_column(default=False)
    # Signs each call (X-CPA-Signature); the publisher verifies it with this secret.
    secret: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def wants(self, event: str) -> bool:
        return bool(self.url_template) and getattr(self, f"on_{event}", False)


class PostbackDelivery(db.Model):
    """One call of a publisher's postback for one conversion event, with its attempts."""

    __tablename__ = "postback_deliveries"
    __table_args__ = (
        UniqueConstraint("conversion_id", "event", name="delivery_once"),
        CheckConstraint("state IN ('pending', 'retrying', 'delivered', 'failed')",
                        name="state_known"),
        Index("ix_postback_deliveries_publisher_created", "publisher_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversion_id: Mapped[int] = mapped_column(ForeignKey("conversions.id"))
    publisher_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    event: Mapped[str] = mapped_column(String(10))  # created, approved, rejected
    url: Mapped[str] = mapped_column(String(2000))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
