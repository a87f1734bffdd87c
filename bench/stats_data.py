"""Conversions and rollup rows for bench/stats.py, shaped as the real paths write them."""

from datetime import timedelta

from offers.clickstore import hour_of

ROLLUP_KEY = ("hour", "link_id", "country", "sub1")
COUNTERS = ("clicks", "unique_clicks", "flagged_clicks")
CONVERSION_COUNTERS = ("conversions", "payout")
ROLLUP_COLUMNS = (*ROLLUP_KEY, "sub2", "sub3", "sub4", "sub5", "offer_id", "publisher_id",
                  *COUNTERS, *CONVERSION_COUNTERS)


def conversions(rng, click_rows, offers, count: int, now) -> list[dict]:
    """`count` conversions on clean clicks, a few minutes to days after the click."""
    payouts = {o[0]: o[4] for o in offers}
    clean = [c for c in click_rows if not c[16]]
    made = []
    for click in rng.sample(clean, min(count, len(clean))):
        at = min(now, click[1] + timedelta(minutes=rng.randint(2, 3 * 1440)))
        status = rng.choices(("approved", "pending", "rejected"), (0.6, 0.3, 0.1))[0]
        made.append({"click": click, "at": at, "status": status,
                     "payout": payouts[click[3]]})
    return made


def write_conversions(copy_rows, made: list[dict], rollups: dict) -> None:
    """Add each conversion to its click's hour x link x country x sub-ids rollup row, as
    offers.stats.record_conversion_stats does (rejected conversions are taken back)."""
    for conversion in made:
        click = conversion["click"]
        row = rollups[(hour_of(conversion["at"]), click[2], click[14], click[5])]
        row[3], row[4] = click[3], click[4]
        extra = row[5:] or [0, 0]
        if conversion["status"] != "rejected":
            extra[0] += 1
            extra[1] += conversion["payout"]
        row[5:] = extra


def rollup_rows(rollups: dict):
    for (hour, link_id, country, sub1), values in sorted(rollups.items()):
        extra = values[5:] or [0, 0]
        yield (hour, link_id, country, sub1, "", "", "", "", values[3], values[4],
               values[0], values[1], values[2], *extra)
