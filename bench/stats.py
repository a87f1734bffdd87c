"""Statistics and ratings at scale on PostgreSQL: `.venv/bin/python bench/stats.py`.

Creates its own database (`cpa_bench_stats_<pid>`) on BENCH_POSTGRES_URL, migrates it, and bulk
loads (COPY) 1,000 publishers, 100 offers, 5 links per publisher, 1,000,000 clicks over 90 days
and 50,000 conversions, with the hourly rollups shaped exactly as the click flush
(`offers.clickstore.add_to_rollups`) and the conversion path write them. Then, through the
app's test client, it times the publisher dashboard, the leaderboard and a 90-day stats API
call (median of 20 requests each; target < 150 ms) and the network-wide rating recompute
(target < 30 s), prints the figures and drops the database. Bounded: fixed counts, no loops
that wait on anything.
"""

import argparse
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.append(str(Path(__file__).resolve().parent))  # stats_data, after the packages

from flask_migrate import upgrade
from sqlalchemy import text

from bench.scratch import scratch_database

PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway database
REQUESTS = 20
TARGET_MS = 150.0
TARGET_RECOMPUTE_S = 30.0
DAYS = 90
COUNTRIES = ("RU", "KZ", "US", "DE", "GB")
SOURCES = ("", "feed", "stories", "search")
CATEGORIES = ("finance", "ecommerce", "games", "dating", "education", "travel")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--conversions", type=int, default=50_000)
    parser.add_argument("--publishers", type=int, default=1_000)
    parser.add_argument("--offers", type=int, default=100)
    args = parser.parse_args()
    with scratch_database("cpa_bench_stats") as database_url:
        return run(database_url, args)


def copy_rows(table: str, columns: tuple[str, ...], rows) -> None:
    """COPY rows into a table over the session's own connection."""
    from cpa_network.extensions import db

    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(args, rng: random.Random) -> dict:
    import stats_data as bench_data

    from cpa_network.accounts.services import hash_password
    from cpa_network.database import utcnow
    from cpa_network.extensions import db
    from offers.clickstore import hour_of
    from offers.tracking import new_click_id

    now = utcnow()
    started = time.perf_counter()
    password = hash_password(PASSWORD)
    advertisers = list(range(2, 12))
    publishers = list(range(12, 12 + args.publishers))
    users = [(1, "admin@bench.test", password, "Operator", False, False, True, "BADMIN01")]
    users += [(i, f"adv{i}@bench.test", password, f"Advertiser {i}", True, False, False,
               f"BA{i:08d}") for i in advertisers]
    users += [(i, f"pub{i}@bench.test", password, f"Publisher {i}", False, True, False,
               f"BP{i:08d}") for i in publishers]
    copy_rows("users", ("id", "email", "password_hash", "display_name", "is_advertiser",
                        "is_publisher", "is_admin", "referral_code", "timezone",
                        "registered_at", "session_version", "blocked_reason"),
              ((*u, "UTC", now - timedelta(days=rng.randint(10, 700)), 1, "") for u in users))
    offers = [(i, rng.choice(advertisers), rng.choice(CATEGORIES), rng.choice(("USD", "RUB")),
               rng.randint(2, 30) * 100) for i in range(1, args.offers + 1)]
    copy_rows("offers", ("id", "advertiser_id", "name", "description_md", "description_html",
                         "category", "landing_url", "fallback_url", "currency",
                         "reference_amount", "top_payout", "hold_days",
                         "attribution_window_days", "reward_model", "customer_bonus",
                         "allowed_countries", "traffic_sources", "visibility", "status",
                         "rejection_reason", "postback_secret", "created_at", "updated_at"),
              ((o, a, f"Offer {o}", "", "", c, "https://shop.example.com/?c={click_id}", "", cur,
                0, pay, 7, 30, "one_sided", "", "", "", "public", "active", "", f"s{o:020d}",
                now, now) for o, a, c, cur, pay in offers))
    links = []
    for p in publishers:
        for o in rng.sample(range(1, args.offers + 1), 5):
            links.append((len(links) + 1, o, p, f"t{len(links) + 1:015d}",
                          f"PROMO{len(links) + 1:08d}", now))
    copy_rows("tracking_links", ("id", "offer_id", "publisher_id", "token", "promo_code",
                                 "created_at"), links)
    # Clicks: some links are busy, most are quiet (a long tail, as in real networks).
    weights = [rng.paretovariate(1.2) for _ in links]
    chosen = rng.choices(links, weights=weights, k=args.clicks)
    rollups: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    click_rows = []
    for link in chosen:
        at = now - timedelta(seconds=rng.randint(0, DAYS * 86400 - 1))
        flags = "bot" if rng.random() < 0.03 else ""
        unique = rng.random() < 0.8
        country, sub1 = rng.choice(COUNTRIES), rng.choice(SOURCES)
        click_id = new_click_id(int(at.timestamp() * 1000), rng.getrandbits(80))
        click_rows.append((click_id, at, link[0], link[1], link[2], sub1, "", "", "", "",
                           "h" * 32, "10.0.0.0", "bench", "", country, unique, flags))
        row = rollups[(hour_of(at), link[0], country, sub1)]
        row[0] += 1
        row[1] += 1 if unique and not flags else 0
        row[2] += 1 if flags else 0
        row[3], row[4] = link[1], link[2]
    copy_rows("clicks", ("id", "clicked_at", "link_id", "offer_id", "publisher_id", "sub1",
                         "sub2", "sub3", "sub4", "sub5", "ip_hash", "ip_prefix", "user_agent",
                         "referer", "country", "is_unique", "flags"), click_rows)
    conversions = bench_data.conversions(rng, click_rows, offers, args.conversions, now)
    bench_data.write_conversions(copy_rows, conversions, rollups)
    copy_rows("traffic_hourly", bench_data.ROLLUP_COLUMNS,
              bench_data.rollup_rows(rollups))
    for table in ("users", "offers", "tracking_links", "conversions"):
        # Fixed table names, no input: the COPYs above gave explicit ids.
        db.session.execute(text(f"SELECT setval('{table}_id_seq', "  # noqa: S608
                                f"(SELECT max(id) FROM {table}))"))
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    print(f"loaded {len(users)} users, {len(offers)} offers, {len(links)} links, "
          f"{len(click_rows):,} clicks, {len(conversions):,} conversions, "
          f"{len(rollups):,} rollup rows in {time.perf_counter() - started:.1f} s")
    return {"publisher": max(publishers, key=lambda p: sum(
        w for link, w in zip(links, weights, strict=True) if link[2] == p))}


def timed(client, url: str, headers: dict | None = None) -> float:
    times = []
    client.get(url, headers=headers)  # warm-up: caches, the first query plans
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times)


def run(database_url: str, args) -> int:
    from cpa_network.accounts import services
    from cpa_network.accounts.models import User
    from cpa_network.app import create_app
    from cpa_network.database import utcnow
    from cpa_network.extensions import db
    from publishers.rating_jobs import recompute_ratings

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url,
                     RATELIMIT_ENABLED=False, WTF_CSRF_ENABLED=True)
    rng = random.Random(7)
    with app.app_context():
        upgrade()
        made = load(args, rng)
        started = time.perf_counter()
        changed = recompute_ratings()
        db.session.commit()
        recompute_s = time.perf_counter() - started
        publisher = db.session.get(User, made["publisher"])
        key = services.create_api_key(publisher, "bench", "read").secret
        email = publisher.email
        db.session.commit()
        today = utcnow().date()
    print(f"rating recompute for the whole network: {recompute_s:.2f} s ({changed} rows "
          f"written; target < {TARGET_RECOMPUTE_S:.0f} s)")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    login = client.post("/login", data={"email": email, "password": PASSWORD,
                                        "csrf_token": token})
    assert login.status_code == 302, login.status_code
    api = (f"/api/v1/stats?from={today - timedelta(days=DAYS - 1)}&to={today}&group_by=day")
    results = {
        "publisher dashboard (30 days)": timed(client, "/stats?period=30d"),
        "leaderboard": timed(client, "/ratings"),
        "stats API, 90 days by day": timed(client, api, {"Authorization": f"Bearer {key}"}),
    }
    ok = recompute_s < TARGET_RECOMPUTE_S
    for label, ms in results.items():
        ok = ok and ms < TARGET_MS
        print(f"{label:<32} median of {REQUESTS}: {ms:7.1f} ms (target < {TARGET_MS:.0f} ms)")
    print("targets met" if ok else "targets NOT met")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
