"""Offer rules: create, edit, submit, pause, resume, archive. Services flush; the caller commits.

Input arrives as plain dataclasses (from a form or the JSON API); every refusal is a named
DomainError, and validation errors carry `fields` so a form or the API can point at the field.
"""

import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from babel import Locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cpa_network.accounts.models import User
from cpa_network.errors import DomainError, NotFound, ValidationFailed
from cpa_network.extensions import db
from offers import funding
from offers import status as st
from offers.models import (
    BASIS_POINTS,
    CAP_METRICS,
    CAP_PERIODS,
    CAP_SCOPES,
    CATEGORIES,
    PAYOUT_TYPES,
    REWARD_MODELS,
    VISIBILITIES,
    Goal,
    Offer,
    OfferCap,
)
from offers.text import render_markdown
from payouts.currency import CURRENCIES, max_minor

GOAL_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MACROS = ("click_id", "sub1", "sub2", "sub3", "sub4", "sub5", "publisher_id", "offer_id")
MACRO_RE = re.compile(r"\{([^{}]*)\}")
# Babel's territories, less the groupings that are not countries (EU, UN, "unknown", ...).
COUNTRY_CODES = frozenset(code for code in Locale("en").territories
                          if len(code) == 2 and code.isalpha()
                          and code not in {"EU", "EZ", "UN", "QO", "ZZ"})
MAX_GOALS = 10


@dataclass(frozen=True)
class GoalData:
    code: str
    payout_type: str
    payout: int  # minor units (fixed) or basis points (percent)
    name: str = ""
    once_per_click: bool = False
    requires_goal: str = ""  # a goal the same click or customer must have reached first
    min_amount: int = 0  # the least sale amount it pays for, minor units


@dataclass(frozen=True)
class CapData:
    scope: str
    period: str
    metric: str
    limit: int


@dataclass(frozen=True)
class OfferData:
    """Everything an advertiser says about an offer."""

    name: str
    category: str
    landing_url: str
    currency: str
    goals: tuple[GoalData, ...]
    description_md: str = ""
    fallback_url: str = ""
    reference_amount: int = 0
    hold_days: int = 14
    attribution_window_days: int = 30
    reward_model: str = "one_sided"
    customer_bonus: str = ""
    promo_discount_bp: int | None = None
    allowed_countries: tuple[str, ...] = ()
    traffic_sources: str = ""
    visibility: str = "public"
    caps: tuple[CapData, ...] = field(default_factory=tuple)


def offer_data_from(offer: Offer) -> OfferData:
    """The current values of `offer`, to be changed field by field (the API's PATCH)."""
    return OfferData(
        name=offer.name, category=offer.category, landing_url=offer.landing_url,
        currency=offer.currency, description_md=offer.description_md,
        fallback_url=offer.fallback_url, reference_amount=offer.reference_amount,
        hold_days=offer.hold_days, attribution_window_days=offer.attribution_window_days,
        reward_model=offer.reward_model, customer_bonus=offer.customer_bonus,
        promo_discount_bp=offer.promo_discount_bp,
        allowed_countries=tuple(offer.country_list), traffic_sources=offer.traffic_sources,
        visibility=offer.visibility,
        goals=tuple(GoalData(g.code, g.payout_type, g.payout, g.name, g.once_per_click,
                             g.requires_goal, g.min_amount) for g in offer.goals),
        caps=tuple(CapData(c.scope, c.period, c.metric, c.cap_limit) for c in offer.caps))


def check_url(value: str, *, macros: bool) -> str | None:
    """An error message if `value` is not an absolute http(s) URL (with known macros only)."""
    if not value or len(value) > 1000 or any(ch.isspace() for ch in value):
        return _l("Enter a full address starting with https:// (no spaces).")
    unknown = [m for m in MACRO_RE.findall(value) if m not in MACROS]
    if unknown or (not macros and "{" in value):
        return _l("Unknown macro {%(name)s}. Known: %(known)s.",
                  name=(unknown or [""])[0], known=", ".join(f"{{{m}}}" for m in MACROS))
    parts = urlsplit(MACRO_RE.sub("x", value))
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        return _l("Enter a full address starting with https:// (no spaces).")
    if "{" in urlsplit(value).netloc:
        # A publisher's sub-id in the host would let any link send visitors anywhere.
        return _l("Macros can go in the path and the query, not in the site's address.")
    return None


def validate(data: OfferData) -> None:
    """Every field rule at once, so the form or API can show all problems together."""
    errors: dict[str, list] = {}

    def refuse(name: str, message) -> None:
        errors.setdefault(name, []).append(message)

    if not data.name.strip() or len(data.name) > 120:
        refuse("name", _l("Give the offer a name (up to 120 characters)."))
    if data.category not in CATEGORIES:
        refuse("category", _l("Choose a category."))
    if data.currency not in CURRENCIES:
        refuse("currency", _l("Choose one of: %(codes)s.", codes=", ".join(CURRENCIES)))
    if message := check_url(data.landing_url, macros=True):
        refuse("landing_url", message)
    if data.fallback_url and (message := check_url(data.fallback_url, macros=False)):
        refuse("fallback_url", message)
    if not 0 <= data.hold_days <= 365:
        refuse("hold_days", _l("From 0 to 365 days."))
    if not 1 <= data.attribution_window_days <= 365:
        refuse("attribution_window_days", _l("From 1 to 365 days."))
    if data.reward_model not in REWARD_MODELS:
        refuse("reward_model", _l("Choose a reward model."))
    if data.visibility not in VISIBILITIES:
        refuse("visibility", _l("Choose who can see the offer."))
    if data.promo_discount_bp is not None and not 0 < data.promo_discount_bp < BASIS_POINTS:
        refuse("promo_discount_bp", _l("A discount between 0 and 100 %."))
    unknown = [c for c in data.allowed_countries if c not in COUNTRY_CODES]
    if unknown:
        refuse("allowed_countries", _l("Unknown country codes: %(codes)s.",
                                       codes=", ".join(unknown)))
    _validate_goals(data, refuse)
    _validate_caps(data, refuse)
    if errors:
        raise ValidationFailed(fields=errors)


def _validate_goals(data: OfferData, refuse) -> None:
    ceiling = max_minor(data.currency) if data.currency in CURRENCIES else 0
    if not data.goals:
        refuse("goals", _l("Add at least one goal (a paid action)."))
    if len(data.goals) > MAX_GOALS:
        refuse("goals", _l("At most %(n)d goals.", n=MAX_GOALS))
    codes = [g.code for g in data.goals]
    if len(set(codes)) != len(codes):
        refuse("goals", _l("Each goal needs its own code."))
    for goal in data.goals:
        if not GOAL_CODE_RE.match(goal.code):
            refuse("goals", _l("Goal codes use lowercase letters, digits, - and _ "
                               "(for example registration)."))
        if goal.payout_type not in PAYOUT_TYPES:
            refuse("goals", _l("A goal pays a fixed amount or a percent of the sale."))
        elif goal.payout <= 0:
            refuse("goals", _l("Goal %(code)s: the payout must be above zero.", code=goal.code))
        elif goal.payout_type == "fixed" and ceiling and goal.payout > ceiling:
            refuse("goals", _l("Goal %(code)s: the payout is too large.", code=goal.code))
        elif goal.payout_type == "percent" and goal.payout > BASIS_POINTS:
            refuse("goals", _l("Goal %(code)s: at most 100 %% of the sale.", code=goal.code))
    _validate_sequences(data, refuse, ceiling)
    if any(g.payout_type == "percent" for g in data.goals) and data.reference_amount <= 0:
        refuse("reference_amount", _l("Percent goals need a typical sale amount."))
    if data.reference_amount < 0 or (ceiling and data.reference_amount > ceiling):
        refuse("reference_amount", _l("This amount is not valid."))


def _validate_sequences(data: OfferData, refuse, ceiling: int) -> None:
    """A required goal is another goal of the offer, and requirements never loop."""
    requires = {g.code: g.requires_goal for g in data.goals if g.requires_goal}
    for goal in data.goals:
        if goal.min_amount < 0 or (ceiling and goal.min_amount > ceiling):
            refuse("goals", _l("Goal %(code)s: the minimum amount is not valid.", code=goal.code))
        if not goal.requires_goal:
            continue
        if goal.requires_goal == goal.code or goal.requires_goal not in {
                g.code for g in data.goals}:
            refuse("goals", _l("Goal %(code)s can only require another goal of this offer.",
                               code=goal.code))
            continue
        seen, step = {goal.code}, goal.requires_goal
        while step in requires and step not in seen:
            seen.add(step)
            step = requires[step]
        if step in seen:
            refuse("goals", _l("Goal requirements go round in a circle."))


def _validate_caps(data: OfferData, refuse) -> None:
    keys = [(c.scope, c.period, c.metric) for c in data.caps]
    if len(set(keys)) != len(keys):
        refuse("caps", _l("One cap per scope, period and measure."))
    for cap in data.caps:
        if (cap.scope not in CAP_SCOPES or cap.period not in CAP_PERIODS
                or cap.metric not in CAP_METRICS or cap.limit <= 0):
            refuse("caps", _l("A cap needs a scope, a period, a measure and a limit above zero."))


def top_payout(goals, reference_amount: int) -> int:
    """The most one conversion can pay, percent goals priced at the reference sale."""
    return max((g.payout_for(reference_amount) for g in goals), default=0)


def _apply(offer: Offer, data: OfferData) -> None:
    offer.name = data.name.strip()
    offer.category = data.category
    offer.landing_url = data.landing_url.strip()
    offer.fallback_url = data.fallback_url.strip()
    offer.currency = data.currency
    offer.description_md = data.description_md
    offer.description_html = render_markdown(data.description_md)
    offer.reference_amount = data.reference_amount
    offer.hold_days = data.hold_days
    offer.attribution_window_days = data.attribution_window_days
    offer.reward_model = data.reward_model
    offer.customer_bonus = data.customer_bonus.strip()[:300] if data.reward_model == "two_sided" \
        else ""
    offer.promo_discount_bp = data.promo_discount_bp
    offer.allowed_countries = " ".join(sorted(set(data.allowed_countries)))
    offer.traffic_sources = data.traffic_sources.strip()
    offer.visibility = data.visibility
    existing = {g.code: g for g in offer.goals}
    offer.goals = [_goal(existing.get(g.code), g, position) for position, g in
                   enumerate(data.goals)]
    existing_caps = {(c.scope, c.period, c.metric): c for c in offer.caps}
    offer.caps = [_cap(existing_caps.get((c.scope, c.period, c.metric)), c) for c in data.caps]
    offer.top_payout = top_payout(offer.goals, offer.reference_amount)


def _goal(goal: Goal | None, data: GoalData, position: int) -> Goal:
    """Keep the row of a goal whose code stays (issue 5's conversions point at it)."""
    goal = goal or Goal(code=data.code)
    goal.name, goal.payout_type, goal.payout = data.name.strip(), data.payout_type, data.payout
    goal.position = position
    goal.once_per_click, goal.requires_goal = data.once_per_click, data.requires_goal
    goal.min_amount = data.min_amount
    return goal


def _cap(cap: OfferCap | None, data: CapData) -> OfferCap:
    cap = cap or OfferCap(scope=data.scope, period=data.period, metric=data.metric)
    cap.cap_limit = data.limit
    return cap


def create_offer(advertiser: User, data: OfferData, *, submit: bool = True) -> Offer:
    """A new offer, sent to moderation (or kept as a draft)."""
    validate(data)
    offer = Offer(advertiser=advertiser, postback_secret=secrets.token_hex(24), status=st.DRAFT)
    _apply(offer, data)
    db.session.add(offer)
    if submit:
        change_status(offer, st.PENDING)
    db.session.flush()
    return offer


def update_offer(offer: Offer, data: OfferData) -> Offer:
    """Save an edit. One that sends an approved offer's visitors to a new site (its landing or
    fallback URL on a host the operator has not approved) puts it back in moderation."""
    if offer.status not in st.EDITABLE:
        raise st.ForbiddenTransition(offer.status, offer.status)
    validate(data)
    approved_hosts = _sites(offer)
    _apply(offer, data)
    if offer.status in st.APPROVED and _sites(offer) - approved_hosts:
        offer.status, offer.paused_reason = st.PENDING, ""
    if offer.status == st.ACTIVE:
        funding.check_offer_is_funded(offer)  # a raised payout must still be backed
    db.session.flush()
    return offer


def _sites(offer: Offer) -> set[str]:
    """The hosts the offer sends visitors to."""
    return {(urlsplit(url).hostname or "").lower() for url in (offer.landing_url,
                                                               offer.fallback_url) if url}


class AdvertiserBlocked(DomainError):
    code = "advertiser_blocked"
    http_status = 409
    default_message = _l("The advertiser's account is blocked: their offers cannot go live.")


def change_status(offer: Offer, target: str) -> Offer:
    """Move `offer` to `target` through the state machine; going live needs escrow and an
    advertiser who is not blocked (offers.advertiser_block)."""
    st.check_transition(offer.status, target)
    if target == st.ACTIVE:
        if offer.advertiser.is_blocked:
            raise AdvertiserBlocked()
        funding.check_offer_is_funded(offer)
    if target == st.PENDING:
        offer.rejection_reason = ""
    offer.paused_reason = ""  # offers.awaiting sets it when it pauses an offer for funds
    offer.status = target
    db.session.flush()
    return offer


def owned_offer(owner: User, offer_id: int) -> Offer:
    """The advertiser's own offer; another's is 'not found', not 'forbidden'."""
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.advertiser_id != owner.id:
        raise NotFound(_l("No such offer."))
    return offer


def offers_of(owner: User) -> list[Offer]:
    return list(db.session.scalars(select(Offer).where(Offer.advertiser_id == owner.id)
                                   .order_by(Offer.created_at.desc())))
