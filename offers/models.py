"""Offers and what hangs off them: goals, caps, publisher access (private offers), creatives."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cpa_network.accounts.models import User
from cpa_network.database import UTCDateTime, utcnow
from cpa_network.extensions import db
from offers import status as st

CATEGORIES = {
    "ecommerce": _l("E-commerce"), "finance": _l("Finance"), "travel": _l("Travel"),
    "games": _l("Games"), "education": _l("Education"), "software": _l("Software"),
    "health": _l("Health"), "other": _l("Other"),
}
REWARD_MODELS = {"one_sided": _l("One-sided: only the publisher is paid"),
                 "two_sided": _l("Two-sided: the new customer gets a bonus too")}
VISIBILITIES = {"public": _l("Public: every publisher"),
                "private": _l("Private: invited publishers only")}
PAYOUT_TYPES = {"fixed": _l("fixed amount"), "percent": _l("percent of the sale")}
CAP_SCOPES = {"offer": _l("whole offer"), "publisher": _l("each publisher")}
CAP_PERIODS = {"day": _l("per day"), "month": _l("per month")}
CAP_METRICS = {"conversions": _l("conversions"), "payout": _l("payout")}
BASIS_POINTS = 10_000  # 100 % = 10,000 basis points


class Offer(db.Model):
    """What an advertiser pays for, how much, and under what rules."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("hold_days >= 0 AND hold_days <= 365", name="hold_days_range"),
        CheckConstraint("attribution_window_days BETWEEN 1 AND 365", name="window_range"),
        CheckConstraint("status IN ('draft', 'pending_moderation', 'active', 'rejected', "
                        "'paused', 'archived')", name="status_known"),
        CheckConstraint("visibility IN ('public', 'private')", name="visibility_known"),
        CheckConstraint("reward_model IN ('one_sided', 'two_sided')", name="reward_model_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description_md: Mapped[str] = mapped_column(Text, default="")
    # Rendered from Markdown and sanitized (nh3) when saved, so pages never render raw input.
    description_html: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(20), index=True)
    landing_url: Mapped[str] = mapped_column(String(1000))
    # Where visitors from countries outside `allowed_countries` (or of a paused offer) go.
    fallback_url: Mapped[str] = mapped_column(String(1000), default="")
    currency: Mapped[str] = mapped_column(String(3))
    # A typical sale, in minor units: turns percent goals into an amount for the escrow rule,
    # sorting by payout and the publisher's "about" figure.
    reference_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    # The highest goal's payout in minor units (percent goals priced at reference_amount).
    top_payout: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    hold_days: Mapped[int] = mapped_column(default=14)
    attribution_window_days: Mapped[int] = mapped_column(default=30)
    reward_model: Mapped[str] = mapped_column(String(12), default="one_sided")
    customer_bonus: Mapped[str] = mapped_column(String(300), default="")
    # The discount a customer gets with a publisher's promo code, in basis points (optional).
    promo_discount_bp: Mapped[int | None] = mapped_column()
    # ISO 3166 alpha-2 codes separated by spaces; empty means every country.
    allowed_countries: Mapped[str] = mapped_column(String(800), default="")
    traffic_sources: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(8), default="public")
    status: Mapped[str] = mapped_column(String(20), default=st.DRAFT, index=True)
    rejection_reason: Mapped[str] = mapped_column(String(500), default="")
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Authenticates the advertiser's postbacks (issue 5); shown only to the owner.
    postback_secret: Mapped[str] = mapped_column(String(64))
    # Why a paused offer is paused: "" (its advertiser), or "insufficient_funds" (a conversion
    # found the escrow short; it resumes once the conversions waiting for funds are funded).
    paused_reason: Mapped[str] = mapped_column(String(20), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    advertiser: Mapped[User] = relationship(foreign_keys=[advertiser_id])
    goals: Mapped[list["Goal"]] = relationship(back_populates="offer", order_by="Goal.position",
                                               cascade="all, delete-orphan")
    caps: Mapped[list["OfferCap"]] = relationship(back_populates="offer",
                                                  cascade="all, delete-orphan")

    @property
    def country_list(self) -> list[str]:
        return self.allowed_countries.split()

    @property
    def is_live(self) -> bool:
        return self.status == st.ACTIVE

    @property
    def has_percent_goal(self) -> bool:
        return any(goal.payout_type == "percent" for goal in self.goals)

    def goal(self, code: str) -> "Goal | None":
        return next((g for g in self.goals if g.code == code), None)

    def __repr__(self) -> str:
        return f"<Offer {self.id} {self.name!r} {self.status}>"


class Goal(db.Model):
    """A paid action of an offer: a fixed payout (minor units) or a percent (basis points).

    A goal may pay once per click, may require an earlier goal (`requires_goal`, reached by the
    same click or customer: a sequence such as registration -> first_payment) and a minimum sale
    amount (`min_amount`, minor units).
    """

    __tablename__ = "offer_goals"
    __table_args__ = (
        UniqueConstraint("offer_id", "code", name="goal_code_once"),
        CheckConstraint("payout_type IN ('fixed', 'percent')", name="payout_type_known"),
        CheckConstraint("payout > 0", name="payout_positive"),
        CheckConstraint("payout_type = 'fixed' OR payout <= 10000", name="percent_at_most_100"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120), default="")
    payout_type: Mapped[str] = mapped_column(String(8))
    payout: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(default=0)
    once_per_click: Mapped[bool] = mapped_column(default=False, server_default=false())
    requires_goal: Mapped[str] = mapped_column(String(40), default="", server_default="")
    min_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    offer: Mapped[Offer] = relationship(back_populates="goals")

    def payout_for(self, sale_amount: int) -> int:
        """What one conversion pays, in minor units (percent goals: of `sale_amount`)."""
        if self.payout_type == "fixed":
            return self.payout
        return sale_amount * self.payout // BASIS_POINTS


class OfferCap(db.Model):
    """A hard limit: over it no more conversions are paid (checked by offers.rules)."""

    __tablename__ = "offer_caps"
    __table_args__ = (
        UniqueConstraint("offer_id", "scope", "period", "metric", name="cap_once"),
        CheckConstraint("scope IN ('offer', 'publisher')", name="scope_known"),
        CheckConstraint("period IN ('day', 'month')", name="period_known"),
        CheckConstraint("metric IN ('conversions', 'payout')", name="metric_known"),
        CheckConstraint("cap_limit > 0", name="limit_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(10))
    period: Mapped[str] = mapped_column(String(6))
    metric: Mapped[str] = mapped_column(String(12))
    # A count of conversions, or an amount in the offer's minor units.
    cap_limit: Mapped[int] = mapped_column(BigInteger)

    offer: Mapped[Offer] = relationship(back_populates="caps")


class OfferAccess(db.Model):
    """A publisher the advertiser invited to a private offer (an invitation is the approval)."""

    __tablename__ = "offer_access"
    __table_args__ = (UniqueConstraint("offer_id", "publisher_id", name="access_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    publisher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    publisher: Mapped[User] = relationship()


class Creative(db.Model):
    """A banner (an uploaded image, stored under UPLOAD_DIR with a random name) or a text ad."""

    __tablename__ = "creatives"
    __table_args__ = (CheckConstraint("kind IN ('banner', 'text')", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(120), default="")
    # banner: the stored file name (random, with the extension of the detected type).
    file_name: Mapped[str] = mapped_column(String(64), default="")
    mime_type: Mapped[str] = mapped_column(String(20), default="")
    size_bytes: Mapped[int] = mapped_column(default=0)
    width: Mapped[int | None] = mapped_column()
    height: Mapped[int | None] = mapped_column()
    # text: the ad's headline and body (plain text, escaped in the embed code).
    headline: Mapped[str] = mapped_column(String(120), default="")
    body: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    offer: Mapped[Offer] = relationship()
