"""Ratings end to end: the recompute from rollups, snapshots, leaderboards, the API, inviting."""

from datetime import timedelta

from sqlalchemy import select

from cpa_network.database import utcnow
from cpa_network.extensions import db
from offers.models import OfferAccess
from publishers.models import PublisherRating
from publishers.rating_jobs import recompute_ratings
from publishers.ratings import last_recomputed_at, publisher_rating
from tests.factories import make_api_key, make_user
from tests.offers.helpers import make_link, make_offer
from tests.publishers.helpers import add_clicks


def _two_publishers():
    offer = make_offer(category="finance")
    clean = make_user("publisher", display_name="Clean Carl", email="clean@example.com")
    bots = make_user("publisher", display_name="Botty Bob")
    day = utcnow() - timedelta(days=1)
    add_clicks(make_link(offer, clean), day, 600)
    botty = make_link(offer, bots)
    add_clicks(botty, day, 600)
    add_clicks(botty, day, 600, flags="bot")
    return offer, clean, bots


def test_recompute_writes_snapshots_and_flagged_clicks_never_help(app_context):
    _offer, clean, bots = _two_publishers()
    assert publisher_rating(clean.id) is None
    assert recompute_ratings() > 0
    db.session.commit()
    mine, theirs = publisher_rating(clean.id), publisher_rating(bots.id)
    assert (mine.rank, theirs.rank) == (1, 2)
    assert mine.score > theirs.score
    assert {p.name for p in mine.parts} >= {"approval", "cr", "epc", "volume", "clean",
                                            "tenure", "fraud"}
    assert mine.ranked == 2 and mine.computed_at is not None
    # The category board is written too.
    scopes = {r.scope for r in db.session.scalars(select(PublisherRating)
                                                  .where(PublisherRating.publisher_id ==
                                                         clean.id))}
    assert scopes == {"all", "finance"}


def test_recompute_is_incremental_and_safe_to_repeat(app_context):
    _two_publishers()
    first = recompute_ratings()
    db.session.commit()
    stamp = last_recomputed_at()
    assert recompute_ratings(utcnow()) == 0  # nothing changed: nothing rewritten
    db.session.commit()
    assert last_recomputed_at() >= stamp  # but the run is recorded
    assert first == db.session.query(PublisherRating).count()


def test_leaderboard_pages_and_filters(client, app_context):
    _offer, clean, _bots = _two_publishers()
    recompute_ratings()
    db.session.commit()
    client.login("clean@example.com")
    html = client.get("/ratings").get_data(as_text=True)
    assert html.index("Clean Carl") < html.index("Botty Bob")
    assert "Recomputed from the hourly statistics" in html
    filtered = client.get("/ratings?country=RU&days=30").get_data(as_text=True)
    assert "computed just now" in filtered and "Clean Carl" in filtered
    assert "Nobody ranked yet" in client.get("/ratings?country=US").get_data(as_text=True)
    page = client.get(f"/ratings/publishers/{clean.id}").get_data(as_text=True)
    assert "Why this score" in page and "Clean traffic" in page
    assert client.get("/ratings/mine").headers["Location"].endswith(
        f"/ratings/publishers/{clean.id}")


def test_ratings_api(client, app_context):
    _offer, clean, bots = _two_publishers()
    recompute_ratings()
    db.session.commit()
    headers = {"Authorization": f"Bearer {make_api_key(clean)}"}
    body = client.get("/api/v1/ratings", headers=headers).get_json()
    assert [r["publisher_id"] for r in body["ratings"]] == [clean.id, bots.id]
    assert body["live"] is False and body["computed_at"]
    assert set(body["ratings"][0]["parts"]) >= {"approval", "clean", "fraud"}
    live = client.get("/api/v1/ratings?days=30&category=finance", headers=headers).get_json()
    assert live["live"] is True and live["total"] == 2
    bad = client.get("/api/v1/ratings?category=nope", headers=headers)
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "bad_category"
    # A publisher cannot read an offer's own board; nor can another advertiser.
    assert client.get(f"/api/v1/ratings?offer_id={_offer.id}",
                      headers=headers).status_code == 404


def test_an_advertiser_invites_a_publisher_from_the_leaderboard(client, app_context):
    advertiser = make_user("advertiser", email="adv@example.com")
    private = make_offer(advertiser, visibility="private", name="Secret offer")
    foreign = make_offer(make_user("advertiser"), visibility="private")
    _offer, clean, _bots = _two_publishers()
    recompute_ratings()
    db.session.commit()
    client.login("adv@example.com")
    html = client.get("/ratings").get_data(as_text=True)
    assert "Secret offer" in html and "Invite" in html
    response = client.submit("/ratings/invite", {"offer_id": private.id,
                                                 "publisher_id": clean.id}, page="/ratings")
    assert response.status_code == 302
    granted = db.session.scalars(select(OfferAccess.publisher_id)
                                 .where(OfferAccess.offer_id == private.id)).all()
    assert granted == [clean.id]
    client.submit("/ratings/invite", {"offer_id": foreign.id, "publisher_id": clean.id},
                  page="/ratings")
    assert db.session.scalars(select(OfferAccess).where(
        OfferAccess.offer_id == foreign.id)).all() == []
    board = client.get(f"/ratings/offers/{private.id}")
    assert board.status_code == 200
    assert client.get(f"/ratings/offers/{foreign.id}").status_code == 404


def test_dashboards_render_for_each_role(client, app_context):
    advertiser = make_user("advertiser", email="adv@example.com")
    offer = make_offer(advertiser, name="Dash offer")
    publisher = make_user("publisher", display_name="Pat")
    add_clicks(make_link(offer, publisher), utcnow(), 5)
    make_user("admin", email="op@example.com")
    client.login("adv@example.com")
    html = client.get("/advertiser/stats?period=7d").get_data(as_text=True)
    assert "Dash offer" in html and "Pat" in html and "Escrow left" in html
    csv_body = client.get("/advertiser/stats/export.csv?table=publishers&period=7d")\
        .get_data(as_text=True)
    assert csv_body.splitlines()[1].startswith("Pat,USD,5,")
    client.submit("/logout", page="/advertiser/stats")
    client.login("op@example.com")
    html = client.get("/admin/stats").get_data(as_text=True)
    assert "Job queues" in html and "Dash offer" in html
