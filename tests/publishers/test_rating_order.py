"""Rating order on crafted data, through the real recompute from the rollups: small samples,
fraud, ties, recency; and offer ratings."""

from datetime import timedelta

from cpa_network.database import utcnow
from cpa_network.extensions import db
from publishers.models import OfferRating
from publishers.rating_jobs import recompute_ratings
from publishers.ratings import publisher_rating
from tests.factories import make_user
from tests.offers.helpers import make_link, make_offer
from tests.publishers.helpers import add_clicks, add_conversion_rows, add_conversions

YESTERDAY = timedelta(days=1)


def _publisher(offer, clicks: int, approved: int, rejected: int = 0, at=None):
    link = make_link(offer, make_user("publisher"))
    at = at or utcnow() - YESTERDAY
    if clicks:
        add_clicks(link, at, clicks)
    if approved:
        add_conversions(link, at, "approved", approved)
    if rejected:
        add_conversions(link, at, "rejected", rejected)
    return link


def _rate():
    recompute_ratings()
    db.session.commit()


def test_one_click_and_one_conversion_does_not_beat_a_long_record(app_context):
    offer = make_offer()
    lucky = _publisher(offer, clicks=1, approved=1)
    steady = _publisher(offer, clicks=10_000, approved=300, rejected=10)
    _rate()
    assert publisher_rating(steady.publisher_id).rank == 1
    assert publisher_rating(lucky.publisher_id).rank == 2
    assert publisher_rating(steady.publisher_id).score > publisher_rating(
        lucky.publisher_id).score + 20


def test_fraud_does_not_help(app_context):
    offer = make_offer()
    honest = _publisher(offer, clicks=3_000, approved=90, rejected=5)
    cheat = _publisher(offer, clicks=3_000, approved=90, rejected=5)
    # The cheat also sent 60 conversions that were rejected for fraud signals.
    add_conversion_rows(cheat, utcnow() - YESTERDAY, "rejected", 60,
                        fraud_signals="fast_conversion")
    _rate()
    mine, theirs = publisher_rating(honest.publisher_id), publisher_rating(cheat.publisher_id)
    assert (mine.rank, theirs.rank) == (1, 2)
    fraud = {p.name: p.points for p in theirs.parts}["fraud"]
    assert fraud < 0 and theirs.inputs["fraud"] == 60


def test_equal_records_share_a_rank(app_context):
    offer = make_offer()
    first = _publisher(offer, clicks=500, approved=15)
    second = _publisher(offer, clicks=500, approved=15)
    best = _publisher(offer, clicks=5_000, approved=150)
    _rate()
    a, b = publisher_rating(first.publisher_id), publisher_rating(second.publisher_id)
    assert a.score == b.score and a.rank == b.rank == 2
    assert publisher_rating(best.publisher_id).rank == 1


def test_recent_weeks_count_more(app_context):
    offer = make_offer()
    recent = _publisher(offer, clicks=2_000, approved=60, at=utcnow() - YESTERDAY)
    old = _publisher(offer, clicks=2_000, approved=60, at=utcnow() - timedelta(days=75))
    gone = _publisher(offer, clicks=2_000, approved=60, at=utcnow() - timedelta(days=95))
    _rate()
    assert publisher_rating(recent.publisher_id).score > publisher_rating(old.publisher_id).score
    assert publisher_rating(gone.publisher_id) is None  # outside the 90-day window


def test_offer_ratings_show_approval_and_hold_time(client, app_context):
    offer = make_offer(name="Rated offer")
    link = make_link(offer, make_user("publisher", email="pub@example.com"))
    at = utcnow() - timedelta(days=3)
    add_clicks(link, at, 200)
    add_conversion_rows(link, at, "approved", 3, decided_after=timedelta(hours=48))
    add_conversion_rows(link, at, "rejected", 1, decided_after=timedelta(hours=24))
    _rate()
    rating = db.session.query(OfferRating).filter_by(offer_id=offer.id).one()
    assert (rating.clicks, rating.approved, rating.decided) == (200, 3, 4)
    assert rating.approval_rate == 0.75 and rating.avg_hold_hours == 42.0
    assert rating.epc == 3 * 10_00 / 200
    client.login("pub@example.com")
    html = client.get("/ratings/offers").get_data(as_text=True)
    assert "Rated offer" in html and "75" in html


def test_the_top_10_percent_get_a_badge(app_context):
    offer = make_offer(category="games")
    made = [_publisher(offer, clicks=1_000, approved=5 * (i + 1)) for i in range(6)]
    _rate()
    best = publisher_rating(made[-1].publisher_id)
    assert best.rank == 1
    assert {(b.kind, b.scope) for b in best.badges} == {("top", "all"), ("top", "games")}
    assert "top 10 %" in str(best.badges[0].label).lower()
    assert publisher_rating(made[0].publisher_id).badges == ()


def test_offer_ratings_rank_epc_within_a_currency(app_context):
    """1.00 RUB a click (100 kopecks) is not "between" 1.50 and 0.90 USD: currencies group."""
    from publishers.offer_ratings import visible_offer_ratings

    for name, currency, payout in (("Dollar high", "USD", 3_00), ("Dollar low", "USD", 1_80),
                                   ("Rouble", "RUB", 2_00)):
        link = make_link(make_offer(name=name, currency=currency), make_user("publisher"))
        add_clicks(link, utcnow() - timedelta(days=3), 200)
        add_conversion_rows(link, utcnow() - timedelta(days=3), "approved", 100,
                            decided_after=timedelta(hours=24), payout=payout)
    _rate()
    ranked = [row.offer.name for row in visible_offer_ratings(make_user("publisher"), "epc")
              if row.rating is not None]
    assert ranked == ["Rouble", "Dollar high", "Dollar low"]
