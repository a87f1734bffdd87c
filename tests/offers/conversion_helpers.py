"""Conversion test helpers: stored clicks, postbacks, and the books check run after scenarios."""

from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import func, select

from cpa_network.database import utcnow
from cpa_network.extensions import db
from offers.clickstore import store_clicks
from offers.conversion_models import Conversion
from offers.postbacks import sign
from offers.stats import CONVERSION_COUNTERS
from offers.tracking import hash_ip, ip_prefix, new_click_id
from offers.tracking_models import TrafficHourly
from payouts import ledger
from payouts.invariants import check_ledger
from payouts.models import AccountKind, LedgerTransaction
from tests.offers.helpers import BROWSER, RU_IP, make_link, make_offer


def stored_click(link, *, ago: timedelta = timedelta(minutes=5), ip: str = RU_IP,
                 agent: str = BROWSER, country: str = "RU", flags: str = "",
                 subs: tuple = ("s1", "", "", "", "")) -> str:
    """A click of `link` in the database (as the flush stores it); returns its id."""
    at = utcnow() - ago
    click_id = new_click_id(int(at.timestamp() * 1000))
    store_clicks([{
        "id": click_id, "clicked_at": at, "link_id": link.id, "offer_id": link.offer_id,
        "publisher_id": link.publisher_id, **{f"sub{i}": subs[i - 1] for i in range(1, 6)},
        "ip_hash": hash_ip(ip), "ip_prefix": ip_prefix(ip), "user_agent": agent,
        "referer": "", "country": country, "is_unique": True, "flags": flags}])
    db.session.commit()
    return click_id


def one_conversion_instant(monkeypatch) -> None:
    """Every conversion the test records is at one instant: a UTC midnight cannot start a new
    cap day between them."""
    now = utcnow()
    monkeypatch.setattr("offers.attribution.utcnow", lambda: now)


def live_setup(escrow: int = 1_000_00, **offer_overrides):
    """A live offer (fixed 10.00 registration unless overridden), a publisher's link, a click."""
    offer = make_offer(escrow=escrow, **offer_overrides)
    link = make_link(offer)
    return offer, link, stored_click(link)


def postback_url(offer, click_id: str, *, goal: str = "registration", txid: str = "T-1",
                 signed: bool = False, **extra) -> str:
    params = {"click_id": click_id, "goal": goal, "txid": txid, **extra}
    if signed:
        params["signature"] = sign(offer.postback_secret, {k: str(v) for k, v in
                                                            params.items()})
    else:
        params.setdefault("secret", offer.postback_secret)
    return "/postback?" + urlencode(params)


def conversions() -> list[Conversion]:
    db.session.expire_all()
    return list(db.session.scalars(select(Conversion).order_by(Conversion.id)))


def balance(kind: AccountKind, owner_id: int, currency: str = "USD") -> int:
    return ledger.balance(kind, owner_id, currency)


def assert_books_balance() -> None:
    """`ledger check` passes, each conversion's ledger matches its status, and the rollups
    equal a recount of the conversions."""
    db.session.expire_all()
    report = check_ledger()
    assert report.ok, [c.problems for c in report.checks if not c.ok]
    keys = {t.idempotency_key: t.reason for t in db.session.scalars(
        select(LedgerTransaction).where(LedgerTransaction.idempotency_key.like("conversion:%")))}
    for c in db.session.scalars(select(Conversion)):
        hold, settle = keys.get(f"conversion:{c.id}:hold"), keys.get(f"conversion:{c.id}:settle")
        expected = {"pending": ("conversion_hold", None),
                    "awaiting_funds": (None, None),
                    "approved": ("conversion_hold", "conversion_approve")}.get(c.status)
        if c.status == "rejected":  # rejected while pending returns the hold; awaiting: none
            assert (hold is None and settle is None) or settle == "conversion_reject", c
        else:
            assert (hold, settle) == expected, (c, hold, settle)
    totals = db.session.execute(select(*(func.coalesce(func.sum(getattr(TrafficHourly, name)),
                                                       0) for name in CONVERSION_COUNTERS))).one()
    recount = dict.fromkeys(CONVERSION_COUNTERS, 0)
    prefix = {"pending": "pending", "approved": "approved", "rejected": "rejected",
              "awaiting_funds": "awaiting"}
    for c in db.session.scalars(select(Conversion)):
        if c.status != "rejected":
            recount["conversions"] += 1
            recount["payout"] += c.payout
        recount[f"{prefix[c.status]}_conversions"] += 1
        recount[f"{prefix[c.status]}_payout"] += c.payout
    assert dict(zip(CONVERSION_COUNTERS, (int(v) for v in totals), strict=True)) == recount
