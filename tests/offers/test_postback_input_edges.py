"""Odd input at the conversion endpoints: bytes that are not UTF-8, ids out of range, JSON
numbers with a fraction, non-ASCII digits. Each gets its refusal (or is recorded once), the
same from the fast lane as from the Flask view, and the log keeps its line."""

from sqlalchemy import select

from cpa_network.extensions import db
from offers.conversion_models import PostbackLog
from payouts.currency import to_minor
from tests.factories import make_api_key
from tests.offers.conversion_helpers import (
    conversions,
    live_setup,
    postback_url,
    stored_click,
)

BROWSER = {"Accept-Language": "en"}  # the Flask view answers; without it, the fast lane


def log_lines() -> list[PostbackLog]:
    db.session.expire_all()
    return list(db.session.scalars(select(PostbackLog).order_by(PostbackLog.id)))


def test_txids_that_are_not_utf8_stay_distinct_and_one_in_both_lanes(client, app_context):
    offer, link, click_id = live_setup()
    other_click = stored_click(link)
    first = client.get(postback_url(offer, click_id, txid="X").replace("txid=X", "txid=ORD%FF"))
    second = client.get(postback_url(offer, other_click, txid="X").replace("txid=X",
                                                                           "txid=ORD%FE"))
    assert (first.json["status"], second.json["status"]) == ("ok", "ok")
    # the same bytes again, through the Flask view: the same txid, so a duplicate
    again = client.get(postback_url(offer, click_id, txid="X").replace("txid=X", "txid=ORD%FF"),
                       headers=BROWSER)
    assert again.json["status"] == "duplicate"
    assert again.json["conversion_id"] == first.json["conversion_id"]
    assert sorted(c.txid for c in conversions()) == ["ORD%FE", "ORD%FF"]


def test_raw_bytes_read_as_their_percent_encoding_in_both_lanes(client, app_context):
    offer, _link, click_id = live_setup()
    query = postback_url(offer, click_id, txid="R").split("?", 1)[1].replace("txid=R",
                                                                             "txid=R\xe9")
    lane = client.get("/postback", environ_overrides={"QUERY_STRING": query})
    view = client.get("/postback", headers=BROWSER, environ_overrides={"QUERY_STRING": query})
    assert (lane.status_code, lane.json["status"]) == (200, "ok")
    assert (view.status_code, view.json["status"]) == (200, "duplicate")
    assert [c.txid for c in conversions()] == ["R%E9"]


def test_a_click_id_past_the_year_9999_is_unknown_and_logged(client, app_context):
    offer, _link, _click_id = live_setup()
    for headers in ({}, BROWSER):
        response = client.get(postback_url(offer, "Z" * 26, offer_id=str(offer.id)),
                              headers=headers)
        assert (response.status_code, response.json["status"]) == (404, "unknown_click")
    assert [(line.code, line.offer_id) for line in log_lines()] == \
        [("unknown_click", offer.id)] * 2


def test_a_non_ascii_digit_is_not_an_offer_id(client, app_context):
    offer, _link, _click_id = live_setup()
    for headers in ({}, BROWSER):
        response = client.get(postback_url(offer, "0" * 26, offer_id="\u00b2"), headers=headers)
        assert (response.status_code, response.json["status"]) == (404, "unknown_click")
    assert [(line.code, line.offer_id) for line in log_lines()] == [("unknown_click", None)] * 2
    client.login(offer.advertiser.email)
    page = client.get("/advertiser/conversions?offer_id=%C2%B2")
    assert page.status_code == 200


def test_a_json_amount_with_a_fraction_is_refused_not_dropped(client, app_context):
    offer, _link, click_id = live_setup()
    response = client.post("/postback", json={
        "click_id": click_id, "goal": "registration", "txid": "F-1", "amount": 12.50,
        "secret": offer.postback_secret})
    assert (response.status_code, response.json["status"]) == (422, "amount_invalid")
    assert conversions() == []


def test_a_postback_body_past_the_request_limit_is_refused_and_logged(client, app, app_context,
                                                                      monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    offer, _link, click_id = live_setup()
    form = client.post(f"/postback?click_id={click_id}", data={
        "goal": "sale", "txid": "T-1", "secret": offer.postback_secret, "note": "x" * 10_000})
    as_json = client.post("/postback", json={
        "click_id": click_id, "goal": "sale", "txid": "T-2", "secret": offer.postback_secret,
        "note": "x" * 10_000})
    for response in (form, as_json):
        assert response.status_code == 413
        assert (response.json["status"], response.json["conversion_id"]) == (
            "request_too_large", None)
        assert "too large" in response.json["message"]
    assert conversions() == []
    # the advertiser sees both in the offer's log when the query string names the click
    assert [(line.code, line.http_status, line.offer_id) for line in log_lines()] == [
        ("request_too_large", 413, offer.id), ("request_too_large", 413, None)]


def test_the_test_tool_does_not_use_up_the_offers_postback_quota(client, app, app_context,
                                                                monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_POSTBACK", "2 per minute")
    offer, _link, click_id = live_setup()
    key = make_api_key(offer.advertiser)
    for n in range(3):
        tested = client.post(f"/api/v1/offers/{offer.id}/postbacks/test",
                             headers={"Authorization": f"Bearer {key}"},
                             json={"click_id": click_id, "goal": "registration",
                                   "txid": f"TEST-{n}"})
        assert tested.json["status"] == "ok"
    real = client.get(postback_url(offer, click_id, txid="REAL"))
    assert (real.status_code, real.json["status"]) == (200, "ok")
    # a test's line names no conversion: the one it made was rolled back
    assert [(line.source, line.conversion_id) for line in log_lines()] == \
        [("test", None)] * 3 + [("postback", real.json["conversion_id"])]
    assert [c.txid for c in conversions()] == ["REAL"]


def test_the_test_tool_refuses_amounts_decimal_cannot_hold(client, app_context):
    offer, _link, click_id = live_setup()
    client.login(offer.advertiser.email)
    page = f"/advertiser/offers/{offer.id}/postbacks"
    for amount in ("1e999999999", "sNaN"):
        response = client.submit(f"{page}/test", {"click_id": click_id, "goal": "registration",
                                                  "txid": "T-1", "amount": amount},
                                 page=page, follow_redirects=True)
        assert response.status_code == 200
        assert "Enter an amount like 12.50." in response.get_data(as_text=True)
    assert conversions() == [] and log_lines() == []


def test_to_minor_answers_value_error_for_what_decimal_cannot_scale():
    for text in ("1e999999999", "sNaN", "NaN", "Infinity", "abc"):
        try:
            to_minor(text, "USD")
        except ValueError:
            continue
        raise AssertionError(f"{text!r} was accepted")
    assert to_minor("12.50", "USD") == 1250 and to_minor("1e3", "USD") == 100000


def test_bulk_review_ignores_ids_that_are_not_ascii_digits(client, app_context):
    offer, _link, click_id = live_setup()
    real_id = client.get(postback_url(offer, click_id, txid="B-1")).json["conversion_id"]
    client.login(offer.advertiser.email)
    asked = client.submit("/advertiser/conversions/bulk",
                          {"conversion_id": ["\u00b2", str(real_id)], "approve": "Approve"},
                          page="/advertiser/conversions")
    assert asked.status_code == 200 and "Approve 1 conversion" in asked.get_data(as_text=True)
