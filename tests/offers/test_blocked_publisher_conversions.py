"""A blocked publisher is not paid by the hold-period job, even for a conversion recorded while
the block was committing (which the block's own rejections did not see)."""

from datetime import timedelta

from sqlalchemy import update

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.extensions import db
from offers.review import approve_due
from payouts.models import AccountKind
from tests.offers.conversion_helpers import (
    assert_books_balance,
    balance,
    conversions,
    live_setup,
    postback_url,
    stored_click,
)
from tests.offers.helpers import make_link

K = AccountKind


def test_the_hold_period_job_rejects_a_blocked_publishers_conversion(client, app_context):
    offer, link, click_id = live_setup()
    honest = make_link(offer)
    client.get(postback_url(offer, click_id, txid="ESCAPED"))
    client.get(postback_url(offer, stored_click(honest), txid="HONEST"))
    escrow_before = balance(K.ADVERTISER_ESCROW, offer.advertiser_id)
    # The block committed without seeing the conversion (the race), so it is still pending.
    db.session.execute(update(User).where(User.id == link.publisher_id)
                       .values(blocked_at=utcnow()))
    db.session.commit()
    assert approve_due(now=utcnow() + timedelta(days=400)) == 1
    db.session.commit()
    by_txid = {c.txid: c for c in conversions()}
    assert by_txid["ESCAPED"].status == "rejected"
    assert by_txid["ESCAPED"].decision_reason == "The publisher is blocked."
    assert by_txid["HONEST"].status == "approved"
    assert balance(K.PUBLISHER_AVAILABLE, link.publisher_id) == 0
    escaped = by_txid["ESCAPED"]
    assert balance(K.ADVERTISER_ESCROW, offer.advertiser_id) == \
        escrow_before + escaped.payout + escaped.fee
    assert_books_balance()
