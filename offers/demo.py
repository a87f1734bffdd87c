"""Demo step: fifteen offers from the five demo advertisers, approved through moderation.

Offers go live only through `moderation.moderate`, which applies the escrow rule; if an
advertiser's demo escrow does not cover an offer (the ledger's demo step decides how much they
deposit), the step tops it up through the ledger first, as a deposit would.
"""

from datetime import timedelta

from cpa_network.demo import DemoContext
from offers import access, funding, moderation, services
from offers.services import CapData, GoalData, OfferData
from payouts import escrow, ledger
from payouts.models import AccountKind

# advertiser index, name, category, currency, goals, extras
OFFERS = [
    (0, "Skyline Flights", "travel", "USD", [("booking", "percent", 300)], {"ref": 400_00}),
    (0, "Skyline Hotels", "travel", "EUR", [("booking", "percent", 500)], {"ref": 250_00}),
    (0, "Weekend Getaways", "travel", "USD", [("lead", "fixed", 2_50), ("booking", "fixed", 40_00)],
     {"countries": ("US", "CA", "GB")}),
    (1, "FinBank Debit Card", "finance", "RUB",
     [("registration", "fixed", 300_00), ("first_payment", "fixed", 1500_00)],
     {"countries": ("RU", "KZ"), "caps": (CapData("offer", "day", "conversions", 200),)}),
    (1, "FinBank Credit Card", "finance", "RUB", [("approved_card", "fixed", 3500_00)],
     {"private": True, "caps": (CapData("publisher", "month", "payout", 500_000_00),)}),
    (1, "FinBank Savings", "finance", "USD", [("deposit", "fixed", 25_00)], {}),
    (2, "Dragon Realms", "games", "USD", [("install", "fixed", 1_20), ("level_10", "fixed", 4_00)],
     {"two_sided": "500 gems for new players"}),
    (2, "Space Tactics", "games", "EUR", [("registration", "fixed", 2_00)], {}),
    (2, "Puzzle Garden", "games", "USD", [("install", "fixed", 80)], {"countries": ("US", "DE")}),
    (3, "Python from Zero", "education", "RUB", [("trial", "fixed", 200_00),
                                                 ("purchase", "percent", 2500)],
     {"ref": 40_000_00}),
    (3, "English Online", "education", "EUR", [("lesson_booked", "fixed", 8_00)],
     {"two_sided": "First lesson free"}),
    (3, "Data Science Bootcamp", "education", "USD", [("application", "fixed", 30_00)],
     {"private": True}),
    (4, "ShopMart Electronics", "ecommerce", "RUB", [("order", "percent", 400)],
     {"ref": 15_000_00, "discount": 500}),
    (4, "ShopMart Fashion", "ecommerce", "EUR", [("order", "percent", 800)], {"ref": 90_00}),
    (4, "ShopMart Grocery", "ecommerce", "RUB", [("first_order", "fixed", 250_00)],
     {"two_sided": "300 ₽ off the first order", "discount": 1000}),
]
DESCRIPTION = ("**{name}** — a demo offer by {advertiser}.\n\n"
               "- Paid actions: {goals}\n- Hold period: {hold} days\n\n"
               "Promote it with contextual ads, SEO, e-mail to opted-in lists and social media. "
               "No brand bidding, no incentivised traffic.")


def _offer_data(spec, advertiser, rng) -> OfferData:
    _index, name, category, currency, goals, extra = spec
    slug = name.lower().replace(" ", "-")
    hold = rng.choice([7, 14, 30])
    return OfferData(
        name=name, category=category, currency=currency,
        landing_url=f"https://{slug}.example.com/?click={{click_id}}&aff={{publisher_id}}"
                    f"&src={{sub1}}",
        fallback_url=f"https://{slug}.example.com/unavailable" if "countries" in extra else "",
        description_md=DESCRIPTION.format(name=name, advertiser=advertiser.display_name,
                                          goals=", ".join(g[0] for g in goals), hold=hold),
        goals=tuple(GoalData(code, kind, payout, code.replace("_", " ").capitalize())
                    for code, kind, payout in goals),
        reference_amount=extra.get("ref", 0), hold_days=hold,
        attribution_window_days=rng.choice([30, 30, 45, 60]),
        reward_model="two_sided" if "two_sided" in extra else "one_sided",
        customer_bonus=extra.get("two_sided", ""), promo_discount_bp=extra.get("discount"),
        allowed_countries=extra.get("countries", ()), caps=extra.get("caps", ()),
        visibility="private" if extra.get("private") else "public",
        traffic_sources="Contextual, SEO, e-mail (opt-in), social. No brand bidding.",
    )


def _cover_escrow(offer) -> None:
    """Demo only: deposit what the escrow lacks for one conversion of the highest goal."""
    short = funding.required_escrow(offer) - escrow.escrow_balance(offer.advertiser_id,
                                                                    offer.currency)
    if short > 0:
        ledger.post_transaction(
            f"demo-offer-deposit:{offer.id}",
            ledger.transfer(ledger.network_account(AccountKind.GATEWAY_CLEARING, offer.currency),
                            ledger.account(AccountKind.ADVERTISER_ESCROW, offer.advertiser_id,
                                           offer.currency), short * 20),
            "deposit", {"advertiser": offer.advertiser_id})


def create_offers(context: DemoContext) -> None:
    advertisers, admin = context.made["advertisers"], context.made["admin"]
    publishers = context.made["publishers"]
    offers = []
    for position, spec in enumerate(OFFERS):
        advertiser = advertisers[spec[0]]
        offer = services.create_offer(advertiser, _offer_data(spec, advertiser, context.rng))
        offer.created_at = context.now - timedelta(days=120 - position * 2)
        _cover_escrow(offer)
        moderation.moderate(offer.id, admin, "approve")
        if offer.visibility == "private":
            for publisher in context.rng.sample(publishers, 8):
                access.invite_publisher(offer, publisher.email)
        offers.append(offer)
    # One offer waits for the operator, so the moderation queue is not empty in the demo.
    services.create_offer(advertisers[4], _offer_data(
        (4, "ShopMart Home", "ecommerce", "USD", [("order", "percent", 600)], {"ref": 120_00}),
        advertisers[4], context.rng))
    context.made["offers"] = offers
