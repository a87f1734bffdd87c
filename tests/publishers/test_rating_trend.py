"""The rating trend: the recompute keeps one point per publisher per day, and the rating page
charts them (uPlot from a data- attribute) with the same numbers as a table."""

import json
import re
from datetime import timedelta
from html import unescape

from sqlalchemy import select

from cpa_network.database import utcnow
from cpa_network.extensions import db
from publishers.models import PublisherRatingDay
from publishers.rating_history import backfill
from publishers.rating_jobs import recompute_ratings
from tests.factories import make_user
from tests.offers.helpers import make_link, make_offer
from tests.publishers.helpers import add_clicks


def test_daily_points_and_the_chart(client, app_context):
    offer = make_offer()
    publisher = make_user("publisher", email="trend@example.com")
    link = make_link(offer, publisher)
    now = utcnow()
    for weeks in (3, 2, 1):
        add_clicks(link, now - timedelta(days=7 * weeks, hours=-1), 300)
    backfill(now, weeks=2)
    recompute_ratings(now)
    recompute_ratings(now)  # the same day again: one point, kept current
    db.session.commit()
    points = list(db.session.scalars(select(PublisherRatingDay).where(
        PublisherRatingDay.publisher_id == publisher.id).order_by(PublisherRatingDay.day)))
    assert [p.day for p in points] == [(now - timedelta(days=14)).date(),
                                       (now - timedelta(days=7)).date(), now.date()]
    client.login(publisher.email)
    page = client.get(f"/ratings/publishers/{publisher.id}").get_data(as_text=True)
    chart = json.loads(unescape(re.search(r"data-chart='([^']*)'", page).group(1)))
    assert chart["days"] == [p.day.isoformat() for p in points]
    assert chart["score"] == [round(p.score, 1) for p in points]
    assert "The same numbers as a table" in page and "uPlot.iife.min.js" in page
