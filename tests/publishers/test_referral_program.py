"""The multi-level referral program: worked examples of who earns what on an approved
conversion, refback rounding, blocked uplines, loops, and the referral page."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.errors import NotFound
from cpa_network.extensions import db
from payouts import commissions, ledger
from payouts.commission_models import ReferralCommission
from payouts.models import AccountKind, LedgerTransaction
from tests.factories import make_user
from tests.publishers.exchange_helpers import approve, assert_ledger_clean, available


def chain(length: int) -> list[User]:
    """A root and `length - 1` publishers, each invited by the one before."""
    users = [make_user("publisher")]
    for _ in range(length - 1):
        users.append(make_user("publisher", upline=users[-1]))
    return users


def test_three_levels_are_paid_from_the_network_fee(app, app_context):
    """Fee 12.34 on D's conversion: C (level 1) 10 % = 1.23, B (level 2) 3 % = 0.37, A (level 3)
    1 % = 0.12, floored; the root above A earns nothing (only three levels); D gets its payout
    untouched and the network keeps 12.34 - 1.72 = 10.62."""
    root, a, b, c, d = chain(5)
    approve(d.id, fee=12_34, payout=50_00)
    assert [available(u.id) for u in (root, a, b, c, d)] == [0, 12, 37, 1_23, 50_00]
    assert ledger.balance(AccountKind.NETWORK_REVENUE, 0, "USD") == 12_34 - 1_72
    rows = db.session.scalars(select(ReferralCommission).order_by(ReferralCommission.level)).all()
    assert [(r.level, r.upline_id, r.via_id, r.amount) for r in rows] == [
        (1, c.id, d.id, 1_23), (2, b.id, c.id, 37), (3, a.id, b.id, 12)]
    assert_ledger_clean()


def test_refback_goes_to_the_referral_floored_and_the_upline_keeps_the_rest(app, app_context):
    """Level-1 commission 1.23 with a 33 % refback: 1.23 * 0.33 = 0.4059 -> 0.40 to D, C keeps
    0.83. Level 2 is not touched by D's refback."""
    b, c, d = chain(3)
    commissions.set_refback(c, d.id, 3300)
    db.session.commit()
    approve(d.id, fee=12_34, payout=50_00)
    assert available(d.id) == 50_00 + 40
    assert available(c.id) == 83
    assert available(b.id) == 37
    assert commissions.split(12_34, (1000, 300, 100), 3300) == [(1_23, 40), (37, 0), (12, 0)]
    assert_ledger_clean()


def test_a_blocked_upline_earns_nothing_and_the_levels_above_still_do(app, app_context):
    a, b, c, d = chain(4)
    b.blocked_at = utcnow()
    db.session.commit()
    approve(d.id, fee=10_00)
    assert (available(a.id), available(b.id), available(c.id)) == (10, 0, 1_00)
    assert ledger.balance(AccountKind.NETWORK_REVENUE, 0, "USD") == 10_00 - 1_10
    assert_ledger_clean()


def test_routing_again_returns_the_recorded_shares(app, app_context):
    _, c, d = chain(3)
    conversion_id = approve(d.id, fee=5_00)
    assert commissions.route(conversion_id, d.id, 5_00, "USD") == [(c.id, 50), (_.id, 15)]
    assert db.session.query(ReferralCommission).count() == 2


def test_no_fee_or_no_upline_pays_no_commission(app, app_context):
    lone = make_user("publisher")
    approve(lone.id, fee=3_00)
    _, d = chain(2)
    approve(d.id, fee=0)
    assert db.session.query(ReferralCommission).count() == 0
    assert_ledger_clean()


def test_refback_rules(app, app_context):
    c, d = chain(2)
    stranger = make_user("publisher")
    with pytest.raises(commissions.RefbackOutOfRange):
        commissions.set_refback(c, d.id, 8001)
    with pytest.raises(NotFound):
        commissions.set_refback(stranger, d.id, 1000)
    assert commissions.set_refback(c, d.id, 8000).refback_bp == 8000


def test_loops_are_refused_in_code_and_by_the_database(app, app_context):
    a, _, c = chain(3)
    assert commissions.would_create_cycle(a.id, c.id)  # a below its own downline
    assert commissions.would_create_cycle(c.id, c.id)
    assert not commissions.would_create_cycle(c.id, a.id)
    with pytest.raises(IntegrityError, match="cycle"):
        db.session.execute(text("UPDATE users SET referred_by_id = :c WHERE id = :a"),
                           {"c": c.id, "a": a.id})
        db.session.flush()
    db.session.rollback()


def test_referral_page_shows_the_tree_commissions_and_saves_a_refback(client, app_context):
    b, c, d = chain(3)
    approve(d.id, fee=10_00)
    client.login(b.email)
    page = client.get("/referrals").get_data(as_text=True)
    assert d.display_name in page and c.display_name in page
    assert "$0.30" in page and "$1.00" not in page  # b earned 0.30 through d (level 2)
    assert f"/r/{b.referral_code}" in page
    assert client.get("/referrals/qr.svg").mimetype == "image/svg+xml"
    response = client.submit(f"/referrals/{c.id}/refback", {"refback": "25"}, page="/referrals")
    assert response.status_code == 302
    assert commissions.refback_of(c.id) == 2500
    refused = client.submit(f"/referrals/{c.id}/refback", {"refback": "81"}, page="/referrals")
    assert refused.status_code == 302 and commissions.refback_of(c.id) == 2500
    assert client.submit(f"/referrals/{d.id}/refback", {"refback": "5"},
                         page="/referrals").status_code == 404


def test_the_conversions_approval_path_pays_the_uplines(client, app_context):
    """A real postback, then the advertiser's approval (offers.conversions.approve): the
    commissions are in the approval's own ledger transaction."""
    from offers import conversions
    from tests.offers.conversion_helpers import (
        assert_books_balance,
        postback_url,
        stored_click,
    )
    from tests.offers.conversion_helpers import conversions as stored_conversions
    from tests.offers.helpers import make_link, make_offer

    b, c, d = chain(3)
    offer = make_offer()
    click_id = stored_click(make_link(offer, d))
    assert client.get(postback_url(offer, click_id)).json["status"] == "ok"
    conversion = stored_conversions()[0]
    fee = conversion.fee
    assert fee > 0
    conversions.approve(conversion)
    db.session.commit()
    assert available(c.id) == fee * 1000 // 10_000
    assert available(b.id) == fee * 300 // 10_000
    settle = db.session.scalar(select(LedgerTransaction).where(
        LedgerTransaction.idempotency_key == f"conversion:{conversion.id}:settle"))
    owners = {p.account.owner_id for p in settle.postings}
    assert {c.id, b.id, d.id} <= owners
    assert_books_balance()


def test_a_first_refback_saved_twice_at_once_is_saved_once(app, app_context):
    """A double click on Save for a referral's first refback: both requests used to insert the
    row, and the second failed on the primary key (a 500 on /referrals/<id>/refback)."""
    from tests.publishers.exchange_helpers import make_referral, run_overlapping

    upline = make_user("publisher")
    referral = make_referral(upline)
    upline_id, referral_id = upline.id, referral.id

    def save():
        return commissions.set_refback(db.session.get(User, upline_id), referral_id,
                                       2000).refback_bp

    assert run_overlapping(app, save) == [2000, 2000]
    assert commissions.refback_of(referral_id) == 2000
