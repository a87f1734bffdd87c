"""Demo step: tracking links for most publishers and 90 days of click history.

The history is written through `offers.clickstore.store_clicks`, the same code the stream
flush uses, so the rollups the stats pages read are built exactly as in production. Seeded by
the demo's random source: the same demo on every machine.
"""

from datetime import timedelta

from cpa_network.demo import DemoContext
from cpa_network.extensions import db
from offers import access, links
from offers.clickstore import store_clicks
from offers.geo import country_of
from offers.tracking import hash_ip, ip_prefix, new_click_id

DAYS = 90
# A few networks per country (checked against the shipped GeoIP data).
NETWORKS = {"RU": ("77.88", "5.18"), "KZ": ("2.132",), "US": ("23.20", "73.1"),
            "DE": ("88.198",), "GB": ("81.2",), "FR": ("90.84",), "CA": ("24.114",),
            "PL": ("95.108",)}
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
)
BOT_AGENT = "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"
SOURCES = ("", "feed", "stories", "newsletter", "search", "blog")
REFERERS = ("", "https://t.me/", "https://vk.com/", "https://www.google.com/",
            "https://blog.example.org/review")


def create_links_and_clicks(context: DemoContext) -> None:
    rng, now = context.rng, context.now
    publishers, offers = context.made["publishers"], context.made["offers"]
    made = []
    for publisher in publishers:
        for offer in rng.sample(offers, rng.randint(2, 6)):
            if access.publisher_can_see(offer, publisher):
                made.append(links.link_for(offer, publisher))
    context.made["links"] = made
    records = []
    for link in made:
        offer = link.offer
        countries = offer.country_list or list(NETWORKS)
        daily = rng.uniform(0.5, 8.0)
        start_day = rng.randint(0, DAYS - 10)
        for day in range(start_day, DAYS):
            growth = 0.5 + (day - start_day) / DAYS
            for _ in range(int(rng.expovariate(1 / (daily * growth)))):
                records.append(_click(rng, now - timedelta(days=DAYS - day,
                                                           seconds=rng.randint(0, 86399)),
                                      link, rng.choice(countries)))
    records.sort(key=lambda r: r["id"])
    store_clicks(records)


def _click(rng, at, link, country: str) -> dict:
    ms = int(at.timestamp() * 1000)
    ip = f"{rng.choice(NETWORKS.get(country, NETWORKS['US']))}.{rng.randint(0, 255)}." \
         f"{rng.randint(1, 254)}"
    bot = rng.random() < 0.03
    agent = BOT_AGENT if bot else rng.choice(AGENTS)
    found = country_of(ip)
    flags = ("geo" if link.offer.country_list and found not in link.offer.country_list
             else "bot" if bot else "flood" if rng.random() < 0.01 else "")
    return {
        "id": new_click_id(ms, rng.getrandbits(80)), "clicked_at": at, "link_id": link.id,
        "offer_id": link.offer_id, "publisher_id": link.publisher_id,
        "sub1": rng.choice(SOURCES), "sub2": "", "sub3": "", "sub4": "", "sub5": "",
        "ip_hash": hash_ip(ip), "ip_prefix": ip_prefix(ip), "user_agent": agent,
        "referer": rng.choice(REFERERS), "country": found,
        "is_unique": rng.random() < 0.8, "flags": flags,
    }


def rate_publishers(context: DemoContext) -> None:
    """Ratings from the demo's rollups, as the scheduled job would compute them."""
    from publishers.rating_history import backfill
    from publishers.rating_jobs import recompute_ratings

    db.session.flush()
    backfill(context.now)  # the rating trend's earlier weeks, from the same rollups
    recompute_ratings(context.now)
