"""Offers: validation, the status state machine, the escrow rule, moderation, who may edit."""

import pytest
from sqlalchemy import select

from cpa_network.errors import ValidationFailed
from cpa_network.extensions import db
from cpa_network.notifications.models import Notification
from offers import moderation, services
from offers import status as st
from offers.funding import InsufficientEscrow
from offers.models import Offer
from offers.services import CapData, GoalData
from tests.factories import make_user
from tests.offers.helpers import make_offer, offer_data
from tests.payouts.helpers import fund_escrow


def test_validation_reports_every_bad_field(app_context):
    with pytest.raises(ValidationFailed) as caught:
        services.create_offer(make_user("advertiser"), offer_data(
            name="", currency="XXX", landing_url="javascript:alert(1)", hold_days=400,
            goals=(GoalData("Bad Code!", "fixed", 0), GoalData("sale", "percent", 20_000)),
            allowed_countries=("RU", "ZZ"), caps=(CapData("offer", "week", "conversions", 5),)))
    assert set(caps := caught.value.fields) == {"name", "currency", "landing_url", "hold_days",
                                                "goals", "allowed_countries", "caps",
                                                "reference_amount"}
    assert caps["allowed_countries"] == ["Unknown country codes: ZZ."]


def test_unknown_macro_in_the_landing_url_is_refused(app_context):
    with pytest.raises(ValidationFailed) as caught:
        services.create_offer(make_user("advertiser"),
                              offer_data(landing_url="https://a.example.com/?c={clickid}"))
    assert "Unknown macro {clickid}" in str(caught.value.fields["landing_url"][0])


def test_markdown_description_is_rendered_and_sanitized(app_context):
    offer = make_offer(live=False, description_md=(
        "**Big** bonus <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=a()>"))
    html = offer.description_html
    assert "<strong>Big</strong>" in html
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html


def test_state_machine_allows_the_named_moves_and_refuses_others_by_name(app_context):
    offer = make_offer(live=False)
    assert offer.status == st.PENDING and offer.postback_secret
    with pytest.raises(st.ForbiddenTransition) as caught:
        services.change_status(offer, st.PAUSED)
    assert caught.value.code == "forbidden_transition" and caught.value.http_status == 409
    fund_escrow(offer.advertiser_id, 100_00)
    moderation.moderate(offer.id, make_user("admin"), "approve")
    for target in (st.PAUSED, st.ACTIVE, st.PAUSED, st.ARCHIVED):
        services.change_status(offer, target)
    for target in st.STATUSES:
        with pytest.raises(st.ForbiddenTransition):
            services.change_status(offer, target)


def test_an_offer_goes_live_only_if_escrow_backs_one_conversion_of_its_top_goal(app_context):
    advertiser, admin = make_user("advertiser"), make_user("admin")
    offer = services.create_offer(advertiser, offer_data(goals=(
        GoalData("registration", "fixed", 5_00), GoalData("first_payment", "fixed", 40_00))))
    db.session.commit()
    fund_escrow(advertiser.id, 43_99)  # 40.00 and the network's 10 % fee
    with pytest.raises(InsufficientEscrow) as caught:
        moderation.moderate(offer.id, admin, "approve")
    assert "$44.00" in str(caught.value.message)
    db.session.rollback()
    fund_escrow(advertiser.id, 1, key="top-up")
    assert moderation.moderate(offer.id, admin, "approve").status == st.ACTIVE
    db.session.commit()
    # Resuming is going live again: the same rule applies.
    services.change_status(offer, st.PAUSED)
    offer.goals[1].payout = 50_00
    offer.top_payout = 50_00
    with pytest.raises(InsufficientEscrow):
        services.change_status(offer, st.ACTIVE)


def test_percent_goals_are_priced_at_the_reference_sale(app_context):
    advertiser = make_user("advertiser")
    offer = services.create_offer(advertiser, offer_data(
        goals=(GoalData("sale", "percent", 750),), reference_amount=200_00))
    assert offer.top_payout == 15_00  # 7.5 % of 200.00
    fund_escrow(advertiser.id, 16_49)  # 15.00 and a 1.50 fee: a cent short
    with pytest.raises(InsufficientEscrow):
        moderation.moderate(offer.id, make_user("admin"), "approve")


def test_moderation_reject_needs_a_reason_and_notifies_the_advertiser(app_context):
    offer = make_offer(live=False)
    admin = make_user("admin")
    with pytest.raises(moderation.ReasonRequired):
        moderation.moderate(offer.id, admin, "reject", "  ")
    moderation.moderate(offer.id, admin, "reject", "Landing page is broken")
    db.session.commit()
    assert (offer.status, offer.rejection_reason) == (st.REJECTED, "Landing page is broken")
    note = db.session.scalar(select(Notification).where(Notification.user_id ==
                                                        offer.advertiser_id))
    assert note.kind == "offer_rejected" and note.params["reason"] == "Landing page is broken"
    with pytest.raises(st.ForbiddenTransition):
        moderation.moderate(offer.id, admin, "approve")  # it must be resubmitted first
    services.change_status(offer, st.PENDING)
    assert offer.rejection_reason == ""


def test_moderation_queue_page_approves_and_rejects(client, app_context):
    make_user("admin", email="op@example.com")
    pending = make_offer(live=False, name="Waiting offer")
    fund_escrow(pending.advertiser_id, 100_00)
    other = make_offer(live=False, name="Bad offer")
    client.login("op@example.com")
    page = client.get("/admin/offers/").get_data(as_text=True)
    assert "Waiting offer" in page and "Bad offer" in page
    client.submit(f"/admin/offers/{pending.id}", {"approve": "Approve"}, page="/admin/offers/")
    response = client.submit(f"/admin/offers/{other.id}", {"reject": "Reject", "reason": ""},
                             page="/admin/offers/", follow_redirects=True)
    assert "Say why the offer is rejected." in response.get_data(as_text=True)
    client.submit(f"/admin/offers/{other.id}", {"reject": "Reject", "reason": "Spam"},
                  page="/admin/offers/")
    db.session.expire_all()
    assert (db.session.get(Offer, pending.id).status, db.session.get(Offer, other.id).status) \
        == (st.ACTIVE, st.REJECTED)


def _form(**overrides) -> dict:
    data = {"name": "Form offer", "category": "games", "currency": "USD",
            "landing_url": "https://game.example.com/?c={click_id}", "hold_days": "14",
            "attribution_window_days": "30", "reward_model": "one_sided",
            "visibility": "public", "goals-0-code": "install", "goals-0-payout_type": "fixed",
            "goals-0-payout": "1.25", "goals-1-code": "purchase",
            "goals-1-payout_type": "percent", "goals-1-payout": "7.5",
            "reference_amount": "20.00", "caps-0-scope": "offer", "caps-0-period": "day",
            "caps-0-metric": "conversions", "caps-0-limit": "100", "submit": "Send"}
    data.update(overrides)
    return data


def test_advertiser_creates_an_offer_through_the_form(client, app_context):
    make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    response = client.submit("/advertiser/offers/new", _form())
    assert response.status_code == 302
    offer = db.session.scalar(select(Offer))
    assert offer.status == st.PENDING
    assert [(g.code, g.payout_type, g.payout) for g in offer.goals] == [
        ("install", "fixed", 125), ("purchase", "percent", 750)]
    assert [(c.scope, c.period, c.metric, c.cap_limit) for c in offer.caps] == [
        ("offer", "day", "conversions", 100)]
    assert offer.top_payout == 150  # 7.5 % of 20.00
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert offer.postback_secret in page


def test_form_errors_show_next_to_the_fields(client, app_context):
    make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    response = client.submit("/advertiser/offers/new", _form(
        **{"goals-0-payout": "1.234", "landing_url": "ftp://x"}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter an amount like 12.50." in html
    response = client.submit("/advertiser/offers/new", _form(landing_url="ftp://x"))
    assert "Enter a full address starting with https://" in response.get_data(as_text=True)
    assert db.session.scalar(select(Offer)) is None


def test_a_publisher_cannot_edit_offers_and_an_advertiser_not_anothers(client, app_context):
    offer = make_offer()
    make_user("publisher", email="pub@example.com")
    make_user("advertiser", email="other@example.com")
    client.login("pub@example.com")
    assert client.get(f"/advertiser/offers/{offer.id}/edit").status_code == 403
    assert client.get("/advertiser/offers/new").status_code == 403
    client.submit("/logout", page="/dashboard")
    client.login("other@example.com")
    for url in (f"/advertiser/offers/{offer.id}", f"/advertiser/offers/{offer.id}/edit"):
        assert client.get(url).status_code == 404
    response = client.submit(f"/advertiser/offers/{offer.id}/status", {"target": "paused"},
                             page="/advertiser/offers/new")
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).status == st.ACTIVE


def test_owner_pauses_resumes_and_archives_from_the_offer_page(client, app_context):
    owner = make_user("advertiser", email="adv@example.com")
    offer = make_offer(owner)
    client.login("adv@example.com")
    page = f"/advertiser/offers/{offer.id}"
    for target, expected in (("paused", st.PAUSED), ("active", st.ACTIVE),
                             ("archived", st.ARCHIVED)):
        client.submit(f"{page}/status", {"target": target}, page=page)
        db.session.expire_all()
        assert db.session.get(Offer, offer.id).status == expected
    response = client.submit(f"{page}/status", {"target": "active"}, page=page,
                             follow_redirects=True)
    assert "cannot become active" in response.get_data(as_text=True)
