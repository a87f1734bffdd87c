"""Demo step: the operator, advertisers, and publishers in a referral tree three levels deep."""

from datetime import timedelta

from cpa_network.accounts import services
from cpa_network.demo import DEMO_PASSWORD, DemoContext

ADVERTISERS = ["Skyline Travel", "FinBank", "GameForge", "EduPro", "ShopMart"]
PUBLISHER_COUNT = 40


def create_people(context: DemoContext) -> None:
    rng, now = context.rng, context.now

    def sign_up(email, roles, name, upline=None, days_ago=0):
        user = services.register_user(services.SignUp(
            email=email, password=DEMO_PASSWORD, roles=roles, display_name=name,
            referral_code=upline.referral_code if upline else None))
        user.registered_at = now - timedelta(days=days_ago, hours=rng.randint(0, 23))
        if upline is not None:
            user.referred_at = user.registered_at
        user.last_seen_at = now - timedelta(hours=rng.randint(0, 24 * 5))
        return user

    admin = sign_up("admin@example.com", ("admin",), "Network operator", days_ago=200)
    advertisers = [
        sign_up(f"adv{i + 1}@example.com", ("advertiser",), name, days_ago=rng.randint(120, 180))
        for i, name in enumerate(ADVERTISERS)
    ]
    # Level 0: eight founders; each later publisher is invited by someone one level up.
    publishers, levels = [], {0: []}
    for i in range(PUBLISHER_COUNT):
        level = 0 if i < 8 else (1 if i < 22 else (2 if i < 34 else 3))
        upline = rng.choice(levels[level - 1]) if level else None
        registered_days_ago = max(95 - level * 20 - rng.randint(0, 10), 8)
        user = sign_up(f"pub{i + 1:02d}@example.com", ("publisher",), f"Publisher {i + 1:02d}",
                       upline=upline, days_ago=registered_days_ago)
        publishers.append(user)
        levels.setdefault(level, []).append(user)

    context.made.update(admin=admin, advertisers=advertisers, publishers=publishers)
    context.logins += [("operator", admin.email), ("advertiser", advertisers[0].email),
                       ("publisher", publishers[0].email), ("publisher", publishers[8].email)]
