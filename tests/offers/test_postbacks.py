"""`/postback`: every answer code with its HTTP status, both ways to authenticate, the log."""

import hmac
from datetime import timedelta

import pytest
from sqlalchemy import select

from cpa_network.extensions import db
from cpa_network.notifications.models import Notification
from offers import postbacks, services
from offers import status as st
from offers.conversion_models import PostbackLog
from offers.models import Offer
from offers.services import CapData, GoalData
from payouts.models import AccountKind
from tests.factories import make_user
from tests.offers.conversion_helpers import (
    assert_books_balance,
    balance,
    conversions,
    live_setup,
    one_conversion_instant,
    postback_url,
    stored_click,
)
from tests.offers.helpers import make_link

K = AccountKind


def log_lines() -> list[PostbackLog]:
    db.session.expire_all()
    return list(db.session.scalars(select(PostbackLog).order_by(PostbackLog.id)))


def test_a_postback_records_a_pending_conversion_and_holds_payout_and_fee(client, app_context):
    """Worked example: escrow 1,000.00; a 10.00 registration with the 10 % fee holds 11.00."""
    offer, _link, click_id = live_setup()
    advertiser = offer.advertiser_id
    response = client.get(postback_url(offer, click_id, txid="ORDER-1"))
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ok" and body["conversion_status"] == "pending"
    [conversion] = conversions()
    assert body["conversion_id"] == conversion.id
    assert (conversion.payout, conversion.fee, conversion.status) == (10_00, 1_00, "pending")
    assert (conversion.sub1, conversion.country, conversion.click_id) == ("s1", "RU", click_id)
    assert conversion.hold_until - conversion.created_at == timedelta(days=offer.hold_days)
    assert balance(K.ADVERTISER_ESCROW, advertiser) == 1_000_00 - 11_00
    assert balance(K.ADVERTISER_HOLD, advertiser) == 10_00
    assert balance(K.NETWORK_PENDING_FEE, advertiser) == 1_00
    [line] = log_lines()
    assert (line.code, line.http_status, line.offer_id, line.conversion_id) == (
        "ok", 200, offer.id, conversion.id)
    assert line.params["secret"] == "***"
    assert_books_balance()


def test_the_same_txid_twice_is_one_conversion_and_a_duplicate_answer(client, app_context):
    offer, _link, click_id = live_setup()
    first = client.get(postback_url(offer, click_id, txid="A"))
    again = client.get(postback_url(offer, click_id, txid="A"))
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    assert again.json["conversion_id"] == first.json["conversion_id"]
    assert len(conversions()) == 1
    assert [line.code for line in log_lines()] == ["ok", "duplicate"]
    assert balance(K.ADVERTISER_HOLD, offer.advertiser_id) == 10_00
    assert_books_balance()


def test_two_txids_on_one_click_are_two_conversions_unless_the_goal_pays_once_per_click(
        client, app_context):
    offer, _link, click_id = live_setup(goals=(
        GoalData("lead", "fixed", 2_00), GoalData("install", "fixed", 1_00, once_per_click=True)))
    for txid in ("L-1", "L-2"):
        assert client.get(postback_url(offer, click_id, goal="lead", txid=txid)).json[
            "status"] == "ok"
    first = client.get(postback_url(offer, click_id, goal="install", txid="I-1")).json
    second = client.get(postback_url(offer, click_id, goal="install", txid="I-2")).json
    assert first["status"] == "ok" and second["status"] == "duplicate"
    assert second["conversion_id"] == first["conversion_id"]
    assert [c.goal_code for c in conversions()] == ["lead", "lead", "install"]
    assert_books_balance()


@pytest.mark.parametrize("how", ["form", "json"])
def test_post_with_a_form_or_json_body(how, client, app_context):
    offer, _link, click_id = live_setup()
    body = {"click_id": click_id, "goal": "registration", "txid": "P-1",
            "secret": offer.postback_secret}
    response = client.post("/postback", **({"data": body} if how == "form" else {"json": body}))
    assert response.status_code == 200 and response.json["status"] == "ok"
    assert log_lines()[0].method == "POST"


def test_a_signature_authenticates_and_a_bad_one_is_refused(client, app_context):
    offer, _link, click_id = live_setup()
    signed = client.get(postback_url(offer, click_id, txid="S-1", signed=True, amount=500))
    assert signed.status_code == 200 and signed.json["status"] == "ok"
    tampered = postback_url(offer, click_id, txid="S-2", signed=True).replace("S-2", "S-3")
    for url in (tampered, f"/postback?click_id={click_id}&goal=registration&txid=S-4",
                f"/postback?click_id={click_id}&goal=registration&txid=S-5&secret=wrong"):
        refused = client.get(url)
        assert refused.status_code == 401 and refused.json == {
            "status": "bad_signature", "message": refused.json["message"], "conversion_id": None}
    assert len(conversions()) == 1
    assert [line.code for line in log_lines()] == ["ok"] + ["bad_signature"] * 3
    assert all(line.offer_id == offer.id for line in log_lines())  # shown to the advertiser


def test_the_canonical_string_is_sorted_and_rfc3986_encoded():
    params = {"txid": "A 1/é", "goal": "sale", "click_id": "01ABC", "signature": "x",
              "secret": "y", "amount": "1250"}
    assert postbacks.canonical(params) == \
        "amount=1250&click_id=01ABC&goal=sale&txid=A%201%2F%C3%A9"
    expected = hmac.new(b"k", postbacks.canonical(params).encode(), "sha256").hexdigest()
    assert postbacks.sign("k", params) == expected


def test_secrets_and_signatures_are_compared_in_constant_time(client, app_context,
                                                              monkeypatch):
    offer, _link, click_id = live_setup()
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(postbacks.hmac, "compare_digest", spy)
    # The first conversion of an advertiser takes the full path after the direct one, which
    # authenticates again (offers.postback_direct): each call compares once or more.
    calls = (postback_url(offer, click_id, txid="C-1"),
             postback_url(offer, click_id, txid="C-2", signed=True),
             f"/postback?click_id={click_id}&goal=registration&txid=C-3&signature=00")
    for url in calls:
        before = len(compared)
        client.get(url)
        assert len(compared) > before, url
    assert compared[0] == (offer.postback_secret.encode(), offer.postback_secret.encode())
    assert compared[-1][1] == b"00"


def test_unknown_click_is_404_and_logged_under_the_named_offer(client, app_context):
    offer, _link, _click = live_setup()
    response = client.get(f"/postback?click_id=01HZZZZZZZZZZZZZZZZZZZZZZZ&goal=registration"
                          f"&txid=U-1&offer_id={offer.id}&secret=x")
    assert response.status_code == 404 and response.json["status"] == "unknown_click"
    assert client.get("/postback?click_id=nope&goal=g&txid=t").status_code == 404
    lines = log_lines()
    assert [(line.code, line.offer_id) for line in lines] == [
        ("unknown_click", offer.id), ("unknown_click", None)]


def test_missing_parameters_are_an_invalid_request(client, app_context):
    _offer, _link, click_id = live_setup()
    response = client.get(f"/postback?click_id={click_id}&goal=registration")
    assert response.status_code == 400 and response.json["status"] == "invalid_request"


def test_expired_click_is_410(client, app_context):
    offer, link, _click = live_setup(attribution_window_days=30)
    old = stored_click(link, ago=timedelta(days=31))
    response = client.get(postback_url(offer, old))
    assert response.status_code == 410 and response.json["status"] == "expired_click"


def test_unknown_goal_is_422(client, app_context):
    offer, _link, click_id = live_setup()
    response = client.get(postback_url(offer, click_id, goal="purchase"))
    assert response.status_code == 422 and response.json["status"] == "goal_unknown"


def test_a_paused_offer_refuses_conversions(client, app_context):
    offer, _link, click_id = live_setup()
    services.change_status(offer, st.PAUSED)
    db.session.commit()
    response = client.get(postback_url(offer, click_id))
    assert response.status_code == 409 and response.json["status"] == "offer_paused"
    assert conversions() == []


def test_a_country_the_offer_does_not_take_is_403(client, app_context):
    offer, link, _click = live_setup(allowed_countries=("US",))
    russian = stored_click(link, country="RU")
    response = client.get(postback_url(offer, russian))
    assert response.status_code == 403 and response.json["status"] == "geo_not_allowed"


def test_a_cap_refuses_the_conversion_over_it(client, app_context, monkeypatch):
    one_conversion_instant(monkeypatch)
    offer, _link, click_id = live_setup(caps=(CapData("offer", "day", "conversions", 1),))
    assert client.get(postback_url(offer, click_id, txid="1")).json["status"] == "ok"
    over = client.get(postback_url(offer, click_id, txid="2"))
    assert over.status_code == 409 and over.json["status"] == "cap_reached"
    assert len(conversions()) == 1
    assert_books_balance()


def test_a_blocked_publishers_click_does_not_pay(client, app_context):
    from cpa_network.accounts.services import block_user

    offer, link, click_id = live_setup()
    block_user(link.publisher, "fraud")
    db.session.commit()
    response = client.get(postback_url(offer, click_id))
    assert response.status_code == 403 and response.json["status"] == "publisher_blocked"


@pytest.mark.parametrize(("extra", "code"), [
    ({"amount": "12.50"}, "amount_invalid"),
    ({"amount": "-5"}, "amount_invalid"),
    ({"amount": "100", "currency": "EUR"}, "currency_mismatch"),
])
def test_amounts_are_whole_minor_units_in_the_offers_currency(extra, code, client, app_context):
    offer, _link, click_id = live_setup()
    response = client.get(postback_url(offer, click_id, **extra))
    assert response.status_code == 422 and response.json["status"] == code


def test_percent_payouts_round_down_and_the_fee_too(client, app_context):
    offer, _link, click_id = live_setup(goals=(GoalData("sale", "percent", 750),),
                                        reference_amount=100_00)
    missing = client.get(postback_url(offer, click_id, goal="sale", txid="P-0"))
    assert missing.status_code == 422 and missing.json["status"] == "amount_invalid"
    client.get(postback_url(offer, click_id, goal="sale", txid="P-1", amount=1999,
                            currency="usd"))
    [conversion] = conversions()
    # 7.5 % of 19.99 = 1.49925 -> 1.49; 10 % of 1.49 = 0.149 -> 0.14
    assert (conversion.amount, conversion.payout, conversion.fee) == (1999, 149, 14)
    assert_books_balance()


def test_goal_sequences_need_the_earlier_goal_from_the_same_click_or_customer(client,
                                                                             app_context):
    offer, link, click_id = live_setup(goals=(
        GoalData("registration", "fixed", 1_00),
        GoalData("first_payment", "fixed", 5_00, requires_goal="registration",
                 min_amount=10_00)))
    early = client.get(postback_url(offer, click_id, goal="first_payment", amount=20_00))
    assert early.status_code == 409 and early.json["status"] == "sequence_incomplete"
    client.get(postback_url(offer, click_id, goal="registration", txid="R-1",
                            customer="cust-9"))
    small = client.get(postback_url(offer, click_id, goal="first_payment", txid="F-1",
                                    amount=9_99))
    assert small.status_code == 422 and small.json["status"] == "amount_below_minimum"
    assert client.get(postback_url(offer, click_id, goal="first_payment", txid="F-2",
                                   amount=10_00)).json["status"] == "ok"
    other_click = stored_click(link)  # the same customer through another click
    assert client.get(postback_url(offer, other_click, goal="first_payment", txid="F-3",
                                   amount=50_00, customer="cust-9")).json["status"] == "ok"
    stranger = stored_click(make_link(offer))
    refused = client.get(postback_url(offer, stranger, goal="first_payment", txid="F-4",
                                      amount=50_00, customer="someone-else"))
    assert refused.json["status"] == "sequence_incomplete"
    assert_books_balance()


def test_without_escrow_the_conversion_waits_the_offer_pauses_the_advertiser_hears(
        client, app_context):
    offer, _link, click_id = live_setup(escrow=15_00)  # one 11.00 conversion, not two
    assert client.get(postback_url(offer, click_id, txid="1")).json["status"] == "ok"
    short = client.get(postback_url(offer, click_id, txid="2"))
    assert short.status_code == 202 and short.json["status"] == "insufficient_funds"
    assert short.json["conversion_status"] == "awaiting_funds"
    db.session.expire_all()
    assert (offer.status, offer.paused_reason) == (st.PAUSED, "insufficient_funds")
    # Later conversions of the paused offer queue behind it rather than being refused.
    third = client.get(postback_url(offer, click_id, txid="3"))
    assert third.json["status"] == "insufficient_funds"
    assert [c.status for c in conversions()] == ["pending", "awaiting_funds", "awaiting_funds"]
    note = db.session.scalar(select(Notification).where(
        Notification.user_id == offer.advertiser_id, Notification.kind == "offer_paused_funds"))
    assert note is not None
    assert balance(K.ADVERTISER_ESCROW, offer.advertiser_id) == 4_00
    assert_books_balance()


def test_a_conversion_seconds_after_its_click_is_held_for_fraud_review(client, app_context):
    offer, link, _click = live_setup()
    quick = stored_click(link, ago=timedelta(seconds=3))
    response = client.get(postback_url(offer, quick))
    assert response.status_code == 202 and response.json["status"] == "fraud_suspected"
    [conversion] = conversions()
    assert conversion.held and conversion.signals == ["fast_conversion"]
    assert conversion.status == "pending"  # the money is held while the operator looks


def test_the_postback_is_csrf_exempt_and_never_a_page(client, app_context):
    response = client.post("/postback", data={"click_id": "x"})
    assert response.status_code == 400 and response.is_json


def test_another_advertisers_secret_does_not_work(client, app_context):
    offer, _link, click_id = live_setup()
    other = services.create_offer(make_user("advertiser"), services.offer_data_from(offer))
    db.session.commit()
    response = client.get(postback_url(other, click_id))
    assert response.status_code == 401


@pytest.mark.parametrize(("goals", "message"), [
    ((GoalData("a", "fixed", 1_00, requires_goal="a"),), "can only require another goal"),
    ((GoalData("a", "fixed", 1_00, requires_goal="zzz"),), "can only require another goal"),
    ((GoalData("a", "fixed", 1_00, requires_goal="b"),
      GoalData("b", "fixed", 1_00, requires_goal="a")), "go round in a circle"),
    ((GoalData("a", "fixed", 1_00, min_amount=-1),), "minimum amount is not valid"),
])
def test_goal_sequences_are_validated(goals, message, app_context):
    from cpa_network.errors import ValidationFailed
    from tests.offers.helpers import offer_data

    with pytest.raises(ValidationFailed) as refused:
        services.validate(offer_data(goals=goals))
    assert any(message in str(m) for m in refused.value.fields["goals"])


def test_the_api_takes_goal_sequences(client, app_context):
    from tests.factories import make_api_key

    auth = {"Authorization": f"Bearer {make_api_key(make_user('advertiser'))}"}
    body = {"name": "Bank card", "category": "finance", "currency": "USD",
            "landing_url": "https://bank.example.com/?c={click_id}",
            "goals": [{"code": "registration", "payout_type": "fixed", "payout": 100,
                       "once_per_click": True},
                      {"code": "first_payment", "payout_type": "fixed", "payout": 500,
                       "requires_goal": "registration", "min_amount": 1000}]}
    created = client.post("/api/v1/offers", json=body, headers=auth)
    assert created.status_code == 201, created.json
    goals = created.json["goals"]
    assert goals[0]["once_per_click"] is True
    assert (goals[1]["requires_goal"], goals[1]["min_amount"]) == ("registration", 1000)
    body["goals"][0]["once_per_click"] = "yes"
    assert client.post("/api/v1/offers", json=body, headers=auth).status_code == 422


def test_the_offer_form_takes_goal_sequences(client, app_context):
    from tests.offers.test_offers import _form

    make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    response = client.submit("/advertiser/offers/new", _form(**{
        "goals-0-once_per_click": "y", "goals-1-requires_goal": "install",
        "goals-1-min_amount": "10.00"}))
    assert response.status_code == 302
    offer = db.session.scalar(select(Offer))
    install, purchase = offer.goals
    assert install.once_per_click and not purchase.once_per_click
    assert (purchase.requires_goal, purchase.min_amount) == ("install", 10_00)
    edit = client.get(f"/advertiser/offers/{offer.id}/edit").get_data(as_text=True)
    assert 'value="10.00"' in edit and 'value="install"' in edit
