"""Recording a conversion exactly once, whichever way it arrives (postback, pixel, promo code).

In one database transaction (the caller's):

1. the goal, and a duplicate check: the same offer + goal + txid, or a once-per-click goal's
   click, answers `duplicate` with the original conversion;
2. the rules: the offer is live (or paused for funds), the publisher is not blocked, the click
   is inside the attribution window and from an allowed country, the amount and currency fit
   the goal, an earlier goal the goal requires was reached by the same click or customer;
3. the money: the payout from the goal (fixed, or a percent of the amount, rounded down to a
   whole minor unit) and the network fee on top (NETWORK_FEE_BP basis points of the payout,
   rounded down), both in the offer's currency;
4. fraud signals (offers.fraud): any of them holds the conversion for the operator;
5. the INSERT, `ON CONFLICT DO NOTHING`: of concurrent identical requests one inserts, the
   others wait on the unique index and, once it commits, find its row and answer `duplicate`;
6. the caps (offers.caps, locked counter rows), then the ledger hold (escrow -> hold + fee);
   without enough escrow the conversion waits for funds (offers.awaiting);
7. the rollups and the publisher's outgoing postback.

A refusal raises a `DomainError` from offers.refusals; the caller rolls the transaction back,
so a refused conversion leaves nothing behind (but its log line).
"""

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, exists, literal_column, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.extensions import db
from cpa_network.fastsql import Statement, as_written
from offers import awaiting, caps, conversions, fraud, outgoing, rules
from offers import status as st
from offers.conversion_models import (
    AWAITING_FUNDS,
    CUSTOMER_GIVEN,
    PENDING,
    REJECTED,
    WAITING_FOR_FUNDS,
    Conversion,
    PublisherPostback,
)
from offers.funding import network_fee
from offers.models import Goal, Offer
from offers.refusals import (
    ACCEPTED,
    AmountBelowMinimum,
    AmountInvalid,
    CurrencyMismatch,
    ExpiredClick,
    GoalUnknown,
    InvalidPostback,
    OfferPaused,
    PublisherBlocked,
    SequenceIncomplete,
)
from offers.tracking import ClickInfo, has_control_characters
from payouts import escrow
from payouts.currency import max_minor
from payouts.ledger import InsufficientFunds
from payouts.models import LedgerAccount

TXID_MAX = CUSTOMER_MAX = 100


@dataclass(frozen=True)
class ConversionInput:
    """What the advertiser reports: the goal, their own transaction id, the sale."""

    goal: str
    txid: str
    amount: int | None = None  # minor units of the sale; needed by percent goals
    currency: str = ""  # if given, must be the offer's
    customer: str = ""  # the advertiser's customer id: sequences across clicks and codes
    source: str = "postback"
    user_agent: str = ""  # the browser's, for pixels


@dataclass(frozen=True)
class Outcome:
    code: str  # ok, duplicate, fraud_suspected, insufficient_funds
    conversion: Conversion

    @property
    def http_status(self) -> int:
        return ACCEPTED[self.code][0]

    @property
    def message(self):
        return ACCEPTED[self.code][1]

    def text(self, locale: str | None = None) -> str:
        """The message in `locale`, by default the current language. Translating costs about
        40 µs, a percent of a postback, so each of these fixed messages is translated once per
        language."""
        return accepted_text(self.code, locale or str(get_locale()))


@functools.cache
def accepted_text(code: str, locale: str) -> str:
    return str(ACCEPTED[code][1])  # in `locale`: the caller's current language


# Statements built once per process (building one costs more than running it).
EXISTING_BY_TXID = select(Conversion).where(
    Conversion.offer_id == bindparam("offer_id"), Conversion.goal_code == bindparam("goal"),
    Conversion.txid == bindparam("value"))
EXISTING_BY_CLICK = select(Conversion).where(
    Conversion.offer_id == bindparam("offer_id"), Conversion.goal_code == bindparam("goal"),
    Conversion.click_once == bindparam("value"))
# The conversion a new one would duplicate: the same offer + goal + txid, or a once-per-click
# goal's click (the first, should both match different rows).
SAME_CONVERSION = (
    Conversion.offer_id == bindparam("offer_id"), Conversion.goal_code == bindparam("goal"),
    or_(Conversion.txid == bindparam("txid"), Conversion.click_once == bindparam("click")))
# Everything else a conversion reads before it is written, in one round trip.
FACT_COLUMNS = (
    select(Conversion.id).where(*SAME_CONVERSION)
    .order_by(Conversion.id).limit(1).scalar_subquery().label("duplicate_id"),
    # a duplicate's answer names its status: reading it here saves a duplicate a round trip
    select(Conversion.status).where(*SAME_CONVERSION)
    .order_by(Conversion.id).limit(1).scalar_subquery().label("duplicate_status"),
    select(User.blocked_at.is_not(None)).where(User.id == bindparam("publisher_id"))
    .scalar_subquery().label("blocked"),
    exists().where(Conversion.advertiser_id == bindparam("advertiser_id"),
                   Conversion.currency == bindparam("currency"),
                   WAITING_FOR_FUNDS).label("queue"),
    fraud.SELF_REFERRAL.label("self_referral"),
    fraud.IP_CONVERSIONS.label("ip_conversions"),
    exists().where(PublisherPostback.publisher_id == bindparam("publisher_id"),
                   PublisherPostback.url_template != "",
                   PublisherPostback.on_created.is_(True)).label("postback"),
    # the ids of the advertiser's accounts a hold posts to (NULL until first used)
    *(select(LedgerAccount.id).where(
        LedgerAccount.kind == kind.value, LedgerAccount.owner_id == bindparam("advertiser_id"),
        LedgerAccount.currency == bindparam("currency")).scalar_subquery().label(kind.value)
      for kind in escrow.HOLD_ACCOUNTS),
)
FACTS = Statement(select(*FACT_COLUMNS))
# PostgreSQL: the facts and the new conversion's id, so that its writes need nothing back from
# one another (offers.postback_direct); an id left unused is a gap, as a rolled-back insert's.
FACTS_AND_ID = Statement(select(
    *FACT_COLUMNS, literal_column("nextval('conversions_id_seq')").label("new_id")))


@functools.cache
def _insert_statement(dialect_name: str):
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    table = Conversion.__table__
    return Statement(dialect.insert(table).on_conflict_do_nothing().returning(table.c.id))


def _existing(offer_id: int, goal_code: str, *, txid: str | None = None,
              click_id: str | None = None) -> Conversion | None:
    statement = EXISTING_BY_TXID if txid is not None else EXISTING_BY_CLICK
    return db.session.scalar(statement, {"offer_id": offer_id, "goal": goal_code,
                                         "value": txid if txid is not None else click_id})


def _waits_for_funds(offer: Offer) -> bool:
    """False for a live offer; True for one paused for funds (it queues conversions)."""
    if offer.status == st.ACTIVE:
        return False
    if offer.status == st.PAUSED and offer.paused_reason == awaiting.FUNDS:
        return True
    raise OfferPaused()


def _check_click(offer: Offer, click: ClickInfo, at: datetime) -> None:
    if at - click.clicked_at > timedelta(days=offer.attribution_window_days):
        raise ExpiredClick()
    rules.check_country(offer, click.country)


def _check_amount(offer: Offer, goal: Goal, data: ConversionInput) -> int:
    amount = data.amount
    if amount is not None and (type(amount) is not int or not 0 <= amount <= max_minor(
            offer.currency)):
        raise AmountInvalid()
    if data.currency and data.currency.upper() != offer.currency:
        raise CurrencyMismatch()
    if goal.payout_type == "percent" and not amount:
        raise AmountInvalid(_l("A percent goal is paid from the sale amount: send amount."),
                            fields={"amount": [_l("Required.")]})
    if goal.min_amount and (amount or 0) < goal.min_amount:
        raise AmountBelowMinimum()
    return amount or 0


def _check_sequence(offer: Offer, goal: Goal, click: ClickInfo | None, customer: str) -> None:
    if not goal.requires_goal:
        return
    reached = earlier_goal_reached(offer.id, goal.requires_goal, click.id if click else None,
                                   customer)
    if reached is None or not db.session.scalar(reached):
        raise SequenceIncomplete()


def earlier_goal_reached(offer_id: int, goal_code: str, click_id: str | None,
                         customer: str) -> Select | None:
    """Whether the click or the customer reached the offer's `goal_code` (a rejected conversion
    does not count); None if there is neither a click nor a customer to ask about.

    One EXISTS per key, each on its own index (ix_conversions_click, and
    ix_conversions_offer_goal_customer); an OR of the keys inside one EXISTS could use neither
    and read every conversion of the offer."""
    reached = [Conversion.offer_id == offer_id, Conversion.goal_code == goal_code,
               Conversion.status != REJECTED]
    by_key = ([exists().where(*reached, Conversion.click_id == click_id)] if click_id else []) \
        + ([exists().where(*reached, CUSTOMER_GIVEN, Conversion.customer == customer)]
           if customer else [])
    return select(or_(*by_key)) if by_key else None


def _insert(values: dict) -> Conversion | None:
    """Insert once: None if an identical conversion (txid or once-per-click) exists already."""
    new_id = _insert_statement(db.engine.dialect.name).scalar(values)
    if new_id is None:
        return None
    conversion = as_written(Conversion, {"id": new_id, **values})
    db.session.add(conversion)  # persistent as inserted: no SELECT
    return conversion


@dataclass(frozen=True)
class Plan:
    """A conversion that passed the rules: its row (without an id), its fraud signals, and
    whether it waits for funds instead of being held."""

    values: dict
    signals: list[str]
    waits: bool

    @property
    def code(self) -> str:
        return outcome_code(self.waits, self.signals)


def outcome_code(waits: bool, signals: list[str]) -> str:
    """The answer to a conversion that was recorded."""
    return "insufficient_funds" if waits else "fraud_suspected" if signals else "ok"


def conversion_time() -> datetime:
    """The instant a conversion being recorded now is recorded at."""
    return utcnow()


def checked_goal(offer: Offer, data: ConversionInput) -> Goal:
    """The goal the conversion names (`GoalUnknown`), once its txid and customer fit."""
    # A control character (NUL, say) cannot be stored as text, nor belongs in an order id.
    if not 0 < len(data.txid) <= TXID_MAX or has_control_characters(data.txid):
        problem = _l("The txid must be 1 to %(n)d characters, without control characters.",
                     n=TXID_MAX)
        raise InvalidPostback(problem, fields={"txid": [problem]})
    if len(data.customer) > CUSTOMER_MAX or has_control_characters(data.customer):
        problem = _l("The customer must be at most %(n)d characters, without control "
                     "characters.", n=CUSTOMER_MAX)
        raise InvalidPostback(problem, fields={"customer": [problem]})
    goal = offer.goal(data.goal)
    if goal is None:
        raise GoalUnknown()
    return goal


def facts_params(offer: Offer, goal: Goal, publisher_id: int, click: ClickInfo | None,
                 data: ConversionInput, at: datetime) -> dict:
    """The parameters of FACTS (and FACTS_AND_ID)."""
    return {"publisher_id": publisher_id, "advertiser_id": offer.advertiser_id,
            "currency": offer.currency, "offer_id": offer.id, "goal": goal.code,
            "txid": data.txid, "click": _click_once(goal, click), **fraud.fact_params(click, at)}


def _click_once(goal: Goal, click: ClickInfo | None) -> str | None:
    return click.id if click is not None and goal.once_per_click else None


def plan(offer: Offer, goal: Goal, link_id: int, publisher_id: int, click: ClickInfo | None,
         data: ConversionInput, at: datetime, facts) -> Plan:
    """The rules, given the facts of a conversion that is not a duplicate: a refusal raises."""
    waits = _waits_for_funds(offer)
    if facts.blocked:
        raise PublisherBlocked()
    if click is not None:
        _check_click(offer, click, at)
    amount = _check_amount(offer, goal, data)
    _check_sequence(offer, goal, click, data.customer)
    payout = goal.payout_for(amount)
    if payout <= 0:
        raise AmountInvalid()
    signals = fraud.signals_for(click, at, self_referral=facts.self_referral,
                                ip_conversions=facts.ip_conversions,
                                user_agent=data.user_agent)
    waits = waits or facts.queue
    subs = click.subs if click else ("",) * 5
    return Plan({
        "offer_id": offer.id, "goal_code": goal.code, "advertiser_id": offer.advertiser_id,
        "publisher_id": publisher_id, "link_id": link_id,
        "click_id": click.id if click else None,
        "click_once": _click_once(goal, click),
        "source": data.source, "txid": data.txid, "customer": data.customer,
        "amount": amount, "currency": offer.currency, "payout": payout,
        "fee": network_fee(payout), "status": AWAITING_FUNDS if waits else PENDING,
        "held": bool(signals), "fraud_signals": ",".join(signals),
        **{f"sub{i}": subs[i - 1] for i in range(1, 6)},
        "country": click.country if click else "", "ip_hash": click.ip_hash if click else "",
        "clicked_at": click.clicked_at if click else None, "created_at": at,
        "hold_until": None if waits else at + timedelta(days=offer.hold_days),
        "decided_at": None, "decided_by_id": None, "decision_reason": "",
    }, signals, waits)


def record(offer: Offer, link_id: int, publisher_id: int, click: ClickInfo | None,
           data: ConversionInput, at: datetime | None = None) -> Outcome:
    """Record one conversion of `offer` for the publisher (of `click`, or of a promo code)."""
    at = at or conversion_time()
    goal = checked_goal(offer, data)
    facts = FACTS.first(facts_params(offer, goal, publisher_id, click, data, at))
    if facts.duplicate_id is not None:
        return Outcome("duplicate", db.session.get(Conversion, facts.duplicate_id))
    planned = plan(offer, goal, link_id, publisher_id, click, data, at, facts)
    conversion = _insert(planned.values)
    if conversion is None:  # a concurrent request recorded it first
        found = _existing(offer.id, goal.code, txid=data.txid) or (
            _existing(offer.id, goal.code, click_id=click.id) if click else None)
        return Outcome("duplicate", found)
    waits = planned.waits
    caps.count_conversion(offer, publisher_id, planned.values["payout"], at)
    if not waits:
        try:
            conversions.hold(conversion, offer.hold_days, at, account_ids={
                kind: getattr(facts, kind.value) for kind in escrow.HOLD_ACCOUNTS})
        except InsufficientFunds:
            conversion.status = AWAITING_FUNDS
            conversion.hold_until = None
            waits = True
    if waits:
        awaiting.pause_for_funds(offer, conversion)
    conversions.count_created(conversion)
    if facts.postback:
        outgoing.queue_event(conversion, "created")
    db.session.flush()
    return Outcome(outcome_code(waits, planned.signals), conversion)
