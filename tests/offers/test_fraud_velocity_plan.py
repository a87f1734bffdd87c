"""The IP velocity count of a postback reads the address's index even when the statistics say
the offer's last day is empty (a history whose timestamps are few and old): reading the offer's
index instead would scan the offer's whole day on every postback."""

from datetime import timedelta

from sqlalchemy import select, text

from cpa_network.database import utcnow
from cpa_network.extensions import db
from offers import fraud
from tests.offers.conversion_helpers import live_setup, postback_url, stored_click


def test_the_velocity_count_reads_the_address_index_whatever_the_statistics(
        client, app_context):
    offer, link, _click = live_setup()
    client.get(postback_url(offer, stored_click(link, ip="81.2.69.1"), txid="first"))
    # 3,000 conversions of the offer at eight old timestamps, and statistics taken from them.
    db.session.execute(text("""
        INSERT INTO conversions (offer_id, goal_code, advertiser_id, publisher_id, link_id,
            source, txid, customer, amount, currency, payout, fee, status, held, fraud_signals,
            sub1, sub2, sub3, sub4, sub5, country, ip_hash, created_at, hold_until,
            decision_reason)
        SELECT offer_id, goal_code, advertiser_id, publisher_id, link_id, source,
            'old-' || n, '', 0, currency, payout, fee, 'approved', false, '', '', '', '', '',
            '', country, md5(n::text), now() - interval '40 days' - (n % 8) * interval '1 day',
            now(), ''
        FROM conversions, generate_series(1, 3000) AS n"""))
    db.session.commit()
    db.session.execute(text("ANALYZE conversions"))
    compiled = select(fraud.IP_CONVERSIONS.label("n")).compile(dialect=db.engine.dialect)
    params = {**compiled.params, "ip_hash": "abc", "offer_id": offer.id,
              "velocity_since": utcnow() - timedelta(hours=24)}
    plan = "\n".join(db.session.connection().exec_driver_sql(
        f"EXPLAIN {compiled}", params).scalars())
    assert "ix_conversions_ip_created" in plan, plan
    assert "ix_conversions_offer_created" not in plan, plan
