"""The buyer's figures on crafted data: monthly statistics, the fair-price guide and payback,
each risk signal, and the browsing table's filters and sorts."""

from datetime import timedelta

from cpa_network.database import utcnow
from cpa_network.extensions import db
from publishers import exchange, exchange_browse, exchange_stats
from publishers.exchange_browse import BrowseQuery
from tests.factories import make_user
from tests.publishers.exchange_helpers import (
    add_conversions,
    add_traffic,
    approve,
    available,
    fund_available,
    make_referral,
)


def test_fair_price_and_payback():
    fair = exchange_stats.fair_price(45_00, 15_00)
    assert (fair.low, fair.high, fair.payback_months, fair.verdict) == (30_00, 45_00, 3.0, "fair")
    assert exchange_stats.fair_price(20_00, 15_00).verdict == "below"
    assert exchange_stats.fair_price(100_00, 15_00).payback_months == 6.7
    assert exchange_stats.fair_price(10_00, 0).verdict == "unknown"


def test_monthly_commission_is_the_90_day_average_through_the_referral(app, app_context):
    seller = make_user("publisher")
    referral = make_referral(seller)
    child = make_user("publisher", upline=referral)
    approve(referral.id, fee=30_00, at=utcnow() - timedelta(days=10))  # 3.00 to the seller
    approve(child.id, fee=100_00, at=utcnow() - timedelta(days=40))  # level 2: 3.00
    approve(referral.id, fee=90_00, at=utcnow() - timedelta(days=120))  # too old
    assert exchange_stats.monthly_commission(referral.id, "USD") == 6_00 // 3
    months = exchange_stats.monthly(referral.id, "USD")
    # six calendar months reach back at least 150 days: the old one is in the chart
    assert len(months) == 6 and sum(m.commission for m in months) == 6_00 + 9_00
    assert sum(m.clicks for m in months) == 40


def test_own_referrals_per_level_with_activity(app, app_context):
    seller = make_user("publisher")
    referral = make_referral(seller)
    kids = [make_user("publisher", upline=referral) for _ in range(2)]
    kids[0].last_seen_at = utcnow()
    make_user("publisher", upline=kids[1])
    db.session.commit()
    levels = exchange_stats.own_referrals(referral.id)
    assert [(lv.level, lv.count, lv.active) for lv in levels] == [(1, 2, 1), (2, 1, 0), (3, 0, 0)]


def test_blocked_users_are_not_counted_as_a_lots_own_referrals(app, app_context):
    """Speculators pad a lot with fake sub-referrals; once the network blocks them as bots the
    lot no longer advertises them, nor passes the "has referrals" filter. A real user below a
    blocked one still counts: its conversions still pay the lot's referral."""
    from cpa_network.accounts.services import block_user

    seller = make_user("publisher")
    referral = make_referral(seller)
    bots = [make_user("publisher", upline=referral) for _ in range(3)]
    real = make_user("publisher", upline=bots[0])
    for bot in bots:
        block_user(bot, "bot")
    db.session.commit()
    lot = exchange.list_referral(seller, referral.id, 20_00, "USD")
    db.session.commit()
    levels = exchange_stats.own_referrals(referral.id)
    assert [(lv.level, lv.count) for lv in levels] == [(1, 0), (2, 1), (3, 0)]
    assert exchange_stats.summarize(lot).own_referrals == 1
    block_user(real, "bot")
    db.session.commit()
    assert exchange_stats.summarize(lot).own_referrals == 0
    assert exchange_browse.browse(BrowseQuery(with_referrals=True)) == []


def lot_for(referral_kwargs=None, traffic=None):
    seller = make_user("publisher")
    referral = make_referral(seller, **(referral_kwargs or {}))
    for kwargs in traffic or ():
        add_traffic(referral, **kwargs)
    lot = exchange.list_referral(seller, referral.id, 20_00, "USD")
    db.session.commit()
    return lot


def test_a_clean_lot_has_no_risk_signal(app, app_context):
    lot = lot_for(traffic=[dict(clicks=20, at=utcnow() - timedelta(days=40 + d))
                           for d in range(0, 60, 10)])
    add_conversions(lot.referral, 4, days_ago=20)
    add_conversions(lot.referral, 1, status="rejected", days_ago=20)
    risk = exchange_stats.risk_signals(lot)
    assert risk.signals == {} and risk.level == "low"
    months = exchange_stats.monthly(lot.referral_id, "USD")
    assert sum(m.conversions for m in months) == 4
    assert sum(m.approved for m in months) == 4 * 5_00


def test_rejected_conversions_and_shared_login_addresses_are_signals(app, app_context):
    from offers.conversion_models import LoginAddress

    lot = lot_for(traffic=[dict(clicks=20, at=utcnow() - timedelta(days=40 + d))
                           for d in range(0, 60, 10)])
    add_conversions(lot.referral, 2, days_ago=5)
    add_conversions(lot.referral, 2, status="rejected", days_ago=5)
    for user_id in (lot.referral_id, lot.seller_id):
        db.session.add(LoginAddress(user_id=user_id, ip_hash="same-ip", device_hash=f"d{user_id}"))
    db.session.commit()
    risk = exchange_stats.risk_signals(lot)
    assert set(risk.signals) == {"flagged_traffic", "shared_addresses"}
    assert "2 of 4 conversions rejected" in risk.signals["flagged_traffic"]
    assert risk.signals["shared_addresses"].startswith("1 shared")
    profile = exchange_stats.seller_profile(lot.seller, "USD")
    assert (profile.conversions_30d, profile.earnings_30d) == (0, 0)


def test_risk_signals_on_a_pumped_lot(app, app_context):
    now = utcnow()
    lot = lot_for(dict(registered_days=20), traffic=[
        dict(clicks=300, flagged=100, at=now - timedelta(days=3)),
        dict(clicks=10, at=now - timedelta(days=50))])
    risk = exchange_stats.risk_signals(lot)
    assert set(risk.signals) == {"registered_recently", "activity_spike", "flagged_traffic",
                                 "no_own_conversions"}
    assert risk.level == "high"
    assert "registered 20 days before listing" in risk.signals["registered_recently"]
    assert "100 of 340 clicks flagged" in risk.signals["flagged_traffic"]


def test_browse_filters_and_sorts(app, app_context):
    cheap = lot_for(traffic=[dict(conversions=2)])
    dear_seller = make_user("publisher")
    dear_ref = make_referral(dear_seller)
    make_user("publisher", upline=dear_ref)
    approve(dear_ref.id, fee=300_00)  # 30.00 in 90 days -> 10.00 a month
    dear = exchange.list_referral(dear_seller, dear_ref.id, 25_00, "USD")
    db.session.commit()
    rows = exchange_browse.browse(BrowseQuery(sort="price"))
    assert [r.lot.id for r in rows] == [cheap.id, dear.id]
    rows = exchange_browse.browse(BrowseQuery(sort="price", descending=True))
    assert [r.lot.id for r in rows] == [dear.id, cheap.id]
    assert [r.lot.id for r in exchange_browse.browse(BrowseQuery(max_payback=3))] == [dear.id]
    assert rows[0].fair.payback_months == 2.5
    assert [r.lot.id for r in exchange_browse.browse(BrowseQuery(with_referrals=True))] == \
        [dear.id]
    assert [r.lot.id for r in exchange_browse.browse(BrowseQuery(max_price=21_00))] == [cheap.id]
    assert exchange_browse.browse(BrowseQuery(currency="EUR")) == []


def test_exchange_pages(client, app_context):
    lot = lot_for()
    buyer = make_user("publisher", email="buyer@example.com")
    client.login(buyer.email)
    index = client.get("/exchange?sort=payback&dir=asc").get_data(as_text=True)
    assert f"/exchange/lots/{lot.id}" in index
    page = client.get(f"/exchange/lots/{lot.id}").get_data(as_text=True)
    for label in ("1. The seller", "2. When the seller registered",
                  "3. When the lot was listed", "4. The lot",
                  "5. Its own referrals", "Fair price", "Risk signals", "<svg"):
        assert label in page, label
    asked = client.submit(f"/exchange/lots/{lot.id}/buy", {}, page=f"/exchange/lots/{lot.id}")
    assert asked.status_code == 200 and "short of the price" in asked.get_data(as_text=True)
    response = client.submit(f"/exchange/lots/{lot.id}/buy", {"confirmed": "yes"},
                             page=f"/exchange/lots/{lot.id}")
    assert response.status_code == 302  # back to the lot: no money
    back = client.get(f"/exchange/lots/{lot.id}").get_data(as_text=True)
    assert "Top up at least" in back and f"/exchange/lots/{lot.id}/top-up" in back
    assert client.get("/exchange/sell").status_code == 200
    assert client.get("/exchange/mine").status_code == 200


def test_exchange_sort_links_keep_the_filters_and_nothing_else(client, app_context):
    """Query keys that are url_for's own arguments (`endpoint`, `_external`) were passed on to
    it by the sort links: a 500."""
    lot_for()
    client.login(make_user("publisher").email)
    for query in ("endpoint=x", "_external=1&_scheme=javascript", "values=1"):
        assert client.get(f"/exchange?{query}").status_code == 200, query
    index = client.get("/exchange?currency=USD&max_risk=high&endpoint=x&junk=1") \
        .get_data(as_text=True)
    assert "/exchange?currency=USD&amp;max_risk=high&amp;sort=price&amp;dir=desc" in index
    assert "junk" not in index and "endpoint" not in index


def test_a_retried_buy_on_the_page_goes_to_the_purchase(client, app_context):
    """A double click on "Yes, buy" (or a retry after a timeout): the second post finds the
    lot sold to this very buyer and shows the purchase, not "someone else bought it"."""
    from publishers.exchange_models import LotSale

    lot = lot_for()
    buyer = make_user("publisher")
    fund_available(buyer.id, 20_00)
    client.login(buyer.email)
    lot_url = f"/exchange/lots/{lot.id}"
    first = client.submit(f"{lot_url}/buy", {"confirmed": "yes"}, page=lot_url)
    sale = db.session.query(LotSale).one()
    assert first.headers["Location"].endswith(f"/exchange/sales/{sale.id}")
    again = client.submit(f"{lot_url}/buy", {"confirmed": "yes"}, page="/exchange")
    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"/exchange/sales/{sale.id}")
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "already bought this referral" in page and "someone else" not in page
    assert available(buyer.id) == 0 and db.session.query(LotSale).count() == 1


def test_the_sell_form_refuses_an_unknown_currency_or_amount_calmly(client, app_context):
    """A forged currency, or an amount of sNaN (which the range check could not compare), is
    a form error on the page, not a 500."""
    from publishers.exchange_models import Lot

    seller = make_user("publisher")
    referral = make_referral(seller)
    client.login(seller.email)
    for amount, currency, message in (("30", "XXX", "Not a valid choice"),
                                      ("sNaN", "USD", "from 1 to"), ("NaN", "USD", "from 1 to"),
                                      ("Infinity", "EUR", "from 1 to")):
        response = client.submit("/exchange/sell", {"referral": str(referral.id),
                                                    "amount": amount, "currency": currency})
        assert response.status_code == 200, (amount, currency)
        html = response.get_data(as_text=True)
        assert message in html, (amount, currency)
        assert "At least $5.00." in html or "At least €5.00." in html, (amount, currency)
    assert db.session.query(Lot).count() == 0


def test_a_top_up_of_snan_on_the_lot_page_is_a_form_error(client, app_context):
    lot = lot_for()
    client.login(make_user("publisher").email)
    lot_url = f"/exchange/lots/{lot.id}"
    response = client.submit(f"{lot_url}/top-up", {"amount": "sNaN", "currency": "USD"},
                             page=lot_url)
    assert response.status_code == 422
    assert "from 1 to" in response.get_data(as_text=True)


def test_sell_dispute_and_resolve_through_the_pages(client, app_context):
    from publishers.exchange_models import Lot, LotSale
    from tests.publishers.exchange_helpers import available, fund_available

    seller = make_user("publisher", email="seller@example.com")
    referral = make_referral(seller)
    client.login(seller.email)
    low = client.submit("/exchange/sell", {"referral": referral.id, "amount": "1",
                                           "currency": "USD", "note": ""})
    assert low.status_code == 200 and "minimum price is $5.00" in low.get_data(as_text=True)
    made = client.submit("/exchange/sell", {"referral": referral.id, "amount": "30.00",
                                            "currency": "USD", "note": "steady"})
    assert made.status_code == 302
    lot = db.session.query(Lot).one()
    assert (lot.price, lot.note) == (30_00, "steady")
    client.submit("/logout", {}, page="/dashboard")
    buyer = make_user("publisher", email="buyer@example.com")
    fund_available(buyer.id, 30_00)
    client.login(buyer.email)
    asked = client.submit(f"/exchange/lots/{lot.id}/buy", {}, page=f"/exchange/lots/{lot.id}")
    assert "Buy " in asked.get_data(as_text=True) and "for $30.00?" in asked.get_data(as_text=True)
    assert db.session.query(LotSale).count() == 0 and available(buyer.id) == 30_00
    bought = client.submit(f"/exchange/lots/{lot.id}/buy", {"confirmed": "yes"},
                           page=f"/exchange/lots/{lot.id}")
    sale = db.session.query(LotSale).one()
    assert bought.headers["Location"].endswith(f"/exchange/sales/{sale.id}")
    disputed = client.submit(f"/exchange/sales/{sale.id}/dispute", {"reason": "No activity."})
    assert disputed.status_code == 302
    make_user("admin", email="op@example.com")
    client.submit("/logout", {}, page="/dashboard")
    client.login("op@example.com")
    assert "No activity." in client.get("/admin/exchange").get_data(as_text=True)
    decided = client.submit(f"/admin/exchange/sales/{sale.id}/resolve",
                            {"decision": "refund", "note": "Fair."}, page="/admin/exchange")
    assert decided.status_code == 302
    db.session.expire_all()
    assert db.session.get(LotSale, sale.id).status == "refunded" and available(buyer.id) == 30_00


def test_the_lot_shows_the_sellers_rating(client, app_context):
    from publishers import rating_jobs

    lot = lot_for()
    add_traffic(lot.seller, clicks=500, conversions=20)
    rating_jobs.recompute_ratings()
    db.session.commit()
    profile = exchange_stats.seller_profile(lot.seller, "USD")
    assert profile.rating is not None and 0 <= profile.rating.score <= 100
    client.login(make_user("publisher", email="reader@example.com").email)
    page = client.get(f"/exchange/lots/{lot.id}").get_data(as_text=True)
    assert f"/ratings/publishers/{lot.seller_id}" in page and "of 100, rank" in page
