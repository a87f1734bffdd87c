"""Demo step: conversions of the 90 days of demo clicks, through the real services.

About 2 % of clean clicks convert, minutes to days after the click (some within seconds: click
injection, held for the fraud queue). Advertisers top up escrow through the sandbox first, all
but one, whose escrow runs short, so one offer shows "paused: waiting for funds". Then the
advertisers reject a few, the operator decides part of the fraud queue, and the hold-period
job approves what is past its hold.
"""

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select

from cpa_network.demo import DemoContext
from cpa_network.errors import DomainError
from cpa_network.extensions import db
from offers import attribution, review
from offers.conversion_models import PENDING, Conversion
from offers.funding import network_fee
from offers.tracking import find_click
from offers.tracking_models import Click
from payouts import deposits, escrow
from payouts.currency import max_minor
from payouts.gateway import SandboxGateway

RATE = 0.02
FAST_SHARE = 0.04
SHORT_ADVERTISER = 2  # GameForge: its escrow covers only part of its conversions
REJECT_REASONS = ("Order cancelled by the customer", "Duplicate customer", "Test order",
                  "Chargeback")


def _plan(context: DemoContext) -> list[tuple]:
    """(click id, offer, goal code, amount, conversion time), oldest first."""
    rng, now = context.rng, context.now
    offers = {link.id: link.offer for link in context.made["links"]}
    clicks = db.session.execute(select(Click.id, Click.link_id, Click.clicked_at).where(
        Click.link_id.in_(list(offers)), Click.flags == "").order_by(Click.id)).all()
    plan = []
    for click_id, link_id, clicked_at in clicks:
        if rng.random() >= RATE:
            continue
        offer = offers[link_id]
        goal = offer.goals[0] if len(offer.goals) == 1 or rng.random() < 0.7 else offer.goals[1]
        delay = timedelta(seconds=rng.randint(3, 12)) if rng.random() < FAST_SHARE else \
            timedelta(minutes=rng.randint(2, 60 * 24 * 3))
        at = min(clicked_at + delay, now - timedelta(minutes=1))
        amount = int(offer.reference_amount * rng.uniform(0.3, 2.0)) \
            if goal.payout_type == "percent" else None
        plan.append((click_id, offer, goal.code, amount, at))
    plan.sort(key=lambda item: item[4])
    return plan


def _fund(context: DemoContext, plan: list[tuple]) -> None:
    """Sandbox deposits covering the planned conversions (a part of them for one advertiser)."""
    needed: dict[tuple, int] = defaultdict(int)
    for _click_id, offer, goal_code, amount, _at in plan:
        payout = offer.goal(goal_code).payout_for(amount or 0)
        needed[(offer.advertiser_id, offer.currency)] += payout + network_fee(payout)
    advertisers = {a.id: a for a in context.made["advertisers"]}
    short = context.made["advertisers"][SHORT_ADVERTISER].id
    sandbox = SandboxGateway()
    for (advertiser_id, currency), amount in sorted(needed.items()):
        if advertiser_id == short:  # three quarters of what its conversions need, at most
            amount = amount * 3 // 4 - escrow.escrow_balance(advertiser_id, currency)
        else:
            amount = amount * 11 // 10
        while amount > 100:
            chunk = min(amount, max_minor(currency))
            deposit = deposits.create_deposit(advertisers[advertiser_id], chunk, currency,
                                              gateway=sandbox)
            deposits.open_checkout(deposit, "", "", gateway=sandbox)
            amount -= chunk


def create_conversions(context: DemoContext) -> None:
    rng, now = context.rng, context.now
    plan = _plan(context)
    _fund(context, plan)
    for number, (click_id, offer, goal_code, amount, at) in enumerate(plan, start=1):
        data = attribution.ConversionInput(goal=goal_code, txid=f"DEMO-{number:05d}",
                                           amount=amount)
        click = find_click(click_id)
        try:
            with db.session.begin_nested():  # a refusal (a cap, say) undoes only itself
                attribution.record(offer, click.link_id, click.publisher_id, click, data, at)
        except DomainError:
            continue
    advertisers = {a.id: a for a in context.made["advertisers"]}
    pending = list(db.session.scalars(select(Conversion).where(
        Conversion.status == PENDING, Conversion.held.is_(False)).order_by(Conversion.id)))
    for conversion in rng.sample(pending, len(pending) // 12):
        review.decide(advertisers[conversion.advertiser_id], conversion.id, "reject",
                      rng.choice(REJECT_REASONS))
    held = [c for c in review.fraud_queue() if c.status == PENDING]
    for conversion in held[: len(held) // 2]:
        review.operator_decide(context.made["admin"], conversion.id,
                               rng.choice(("approve", "reject")), "Checked the click log")
    review.approve_due(now=now, batch=100_000)
