"""Rules a conversion must pass (issue 5 calls them): country and hard caps."""

from datetime import UTC, datetime

import pytest

from cpa_network.extensions import db
from offers import rules
from offers.services import CapData
from offers.stats import record_conversion_stats
from tests.factories import make_user
from tests.offers.helpers import make_link, make_offer

NOON = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def test_country_rule(app_context):
    anywhere = make_offer(live=False)
    assert rules.country_allowed(anywhere, "") and rules.country_allowed(anywhere, "BR")
    local = make_offer(live=False, allowed_countries=("RU", "KZ"))
    assert rules.country_allowed(local, "KZ")
    assert not rules.country_allowed(local, "US") and not rules.country_allowed(local, "")
    with pytest.raises(rules.GeoNotAllowed) as caught:
        rules.check_country(local, "US")
    assert caught.value.code == "geo_not_allowed"


def _convert(link, at, payout):
    record_conversion_stats({"link_id": link.id, "offer_id": link.offer_id,
                             "publisher_id": link.publisher_id}, at, 1, payout)
    db.session.commit()


def test_caps_per_offer_and_per_publisher_per_day_and_month(app_context):
    offer = make_offer(caps=(CapData("offer", "day", "conversions", 3),
                             CapData("publisher", "month", "payout", 25_00)))
    first, second = make_link(offer), make_link(offer, make_user("publisher"))
    _convert(first, NOON, 10_00)
    _convert(first, NOON.replace(day=2), 10_00)  # earlier this month
    rules.check_caps(offer, first.publisher_id, 5_00, NOON)  # 20 + 5 <= 25
    with pytest.raises(rules.CapReached) as caught:
        rules.check_caps(offer, first.publisher_id, 5_01, NOON)  # the publisher's month
    assert caught.value.code == "cap_reached"
    rules.check_caps(offer, second.publisher_id, 10_00, NOON)  # another publisher: room
    _convert(second, NOON, 10_00)
    _convert(second, NOON, 10_00)
    with pytest.raises(rules.CapReached):  # the offer's day: 3 conversions today
        rules.check_caps(offer, second.publisher_id, 1, NOON)
    rules.check_caps(offer, second.publisher_id, 1, NOON.replace(day=16))  # a new day


def test_caps_take_usage_from_the_callers_own_count(app_context):
    offer = make_offer(caps=(CapData("offer", "month", "conversions", 2),))
    seen = []

    def usage(cap_offer, publisher_id, since):
        seen.append((cap_offer.id, publisher_id, since))
        return rules.Usage(conversions=2, payout=0)

    with pytest.raises(rules.CapReached):
        rules.check_caps(offer, 7, 1_00, NOON, usage=usage)
    assert seen == [(offer.id, None, datetime(2026, 3, 1, tzinfo=UTC))]
