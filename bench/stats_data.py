"""Conversions and rollup rows for bench/stats.py, shaped as the real paths write them.

A conversion row carries what `offers.attribution.record` stores; the rollups count it in the
hour it was created (`offers.conversions.count_created`, then `_count_move` for a decision):
net, one in its final status's columns, and in the totals unless rejected. The ledger side of a
conversion is not written: no statistics page reads it.
"""

from datetime import timedelta

from offers.clickstore import hour_of
from offers.stats import CONVERSION_COUNTERS, STATUS_COLUMNS

ROLLUP_COLUMNS = ("hour", "link_id", "country", "sub1", "sub2", "sub3", "sub4", "sub5",
                  "offer_id", "publisher_id", "clicks", "unique_clicks", "flagged_clicks",
                  *CONVERSION_COUNTERS)
CONVERSION_COLUMNS = ("id", "offer_id", "goal_code", "advertiser_id", "publisher_id", "link_id",
                      "click_id", "click_once", "source", "txid", "customer", "amount",
                      "currency", "payout", "fee", "status", "held", "fraud_signals", "sub1",
                      "sub2", "sub3", "sub4", "sub5", "country", "ip_hash", "clicked_at",
                      "created_at", "hold_until", "decided_at", "decided_by_id",
                      "decision_reason")
# Click row layout (bench/stats.py): id, at, link, offer, publisher, sub1..sub5, ip_hash,
# ip_prefix, user agent, referer, country, unique, flags.


def conversions(rng, click_rows, offers, count: int, now) -> list[tuple]:
    """`count` conversions on clean clicks, minutes to days after the click; 60 % approved,
    30 % pending, 10 % rejected (a fifth of those for fraud signals)."""
    by_offer = {o[0]: o for o in offers}
    clean = [c for c in click_rows if not c[16]]
    made = []
    for number, click in enumerate(rng.sample(clean, min(count, len(clean))), start=1):
        offer = by_offer[click[3]]
        at = min(now, click[1] + timedelta(minutes=rng.randint(2, 3 * 1440)))
        status = rng.choices(("approved", "pending", "rejected"), (0.6, 0.3, 0.1))[0]
        if status != "pending" and at + timedelta(hours=1) > now:
            status = "pending"
        fraud = "fast_conversion" if status == "rejected" and rng.random() < 0.2 else ""
        decided = at + timedelta(hours=rng.randint(1, 7 * 24)) if status != "pending" else None
        if decided is not None and decided > now:
            decided = now
        payout = offer[4]
        made.append((number, offer[0], "registration", offer[1], click[4], click[2], click[0],
                     click[0], "postback", f"TX{number:09d}", "", 0, offer[3], payout,
                     payout // 10, status, False, fraud, *click[5:10], click[14], click[10],
                     click[1], at, at + timedelta(days=7), decided, None,
                     "bench" if decided else ""))
    return made


def write_conversions(copy_rows, made: list[tuple], rollups: dict) -> None:
    copy_rows("conversions", CONVERSION_COLUMNS, made)
    for row in made:
        values = dict(zip(CONVERSION_COLUMNS, row, strict=True))
        key = (hour_of(values["created_at"]), values["link_id"], values["country"],
               values["sub1"])
        counters = rollups[key]
        counters[3], counters[4] = values["offer_id"], values["publisher_id"]
        extra = counters[5:] or [0] * len(CONVERSION_COUNTERS)
        count, amount = STATUS_COLUMNS[values["status"]]
        named = dict(zip(CONVERSION_COUNTERS, extra, strict=True))
        named[count] += 1
        named[amount] += values["payout"]
        if values["status"] != "rejected":
            named["conversions"] += 1
            named["payout"] += values["payout"]
        counters[5:] = [named[c] for c in CONVERSION_COUNTERS]


def rollup_rows(rollups: dict):
    for (hour, link_id, country, sub1), values in sorted(rollups.items()):
        extra = values[5:] or [0] * len(CONVERSION_COUNTERS)
        yield (hour, link_id, country, sub1, "", "", "", "", values[3], values[4],
               values[0], values[1], values[2], *extra)
