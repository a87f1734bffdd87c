"""The postback's fast lane (offers.postback_fastpath) answers as the Flask view does, and only
the callers it is for; the offer cache behind it (offers.offer_cache) never pays by an old
version of an offer."""

import pytest
from flask import request_started
from flask_babel import force_locale
from sqlalchemy import text, update

from cpa_network.extensions import db
from offers import offer_cache, services
from offers import status as st
from offers.models import Goal, OfferCap
from offers.refusals import ACCEPTED, BadSignature
from tests.offers.conversion_helpers import (
    conversions,
    live_setup,
    one_conversion_instant,
    postback_url,
    stored_click,
)

BROWSER = {"Accept-Language": "en"}  # what makes it a browser's call: Flask answers


@pytest.fixture
def flask_requests(app):
    """How many requests reached Flask's own request handling."""
    seen = []

    def count(_sender, **_extra):
        seen.append(1)

    request_started.connect(count, app)
    yield seen
    request_started.disconnect(count, app)


def answer(client, url, headers=None):
    response = client.get(url, headers=headers or {})
    kept = {k: v for k, v in response.headers.items() if k not in ("Content-Length", "Date")}
    return response.status, response.json, kept, response.get_data()


@pytest.mark.parametrize("case", ["ok", "duplicate", "bad_signature", "unknown_click",
                                  "rate_limited"])
def test_the_lane_answers_exactly_as_the_flask_view(client, app, app_context, flask_requests,
                                                    monkeypatch, case):
    offer, link, _click = live_setup()
    if case == "rate_limited":
        monkeypatch.setitem(app.config, "RATELIMIT_POSTBACK", "1 per minute")

    def url_for_run(run: int) -> str:
        click_id = stored_click(link)
        if case == "duplicate":
            client.get(postback_url(offer, click_id, txid=f"D-{run}"))
        if case == "rate_limited":
            client.get(postback_url(offer, click_id, txid=f"R-{run}-first"))
        if case == "bad_signature":
            return postback_url(offer, click_id, txid=f"B-{run}", secret="wrong")
        if case == "unknown_click":
            return postback_url(offer, "01" + "Z" * 24, txid=f"U-{run}")
        return postback_url(offer, click_id, txid=f"D-{run}" if case == "duplicate"
                            else f"T-{run}")

    fast_url, flask_url = url_for_run(1), url_for_run(2)
    before = len(flask_requests)
    fast = answer(client, fast_url)
    assert len(flask_requests) == before, "the fast lane did not answer"
    slow = answer(client, flask_url, BROWSER)
    assert len(flask_requests) == before + 1, "a browser's call went to the fast lane"
    assert fast[0] == slow[0]
    assert fast[1]["status"] == slow[1]["status"] == case
    assert fast[1].keys() == slow[1].keys() and fast[1]["message"] == slow[1]["message"]
    assert fast[3] == app.json.response(fast[1]).get_data()  # byte for byte as jsonify writes
    fast_headers = {k: v for k, v in fast[2].items() if k not in ("Vary", "Set-Cookie")}
    slow_headers = {k: v for k, v in slow[2].items() if k not in ("Vary", "Set-Cookie")}
    # Retry-After counts down a Redis TTL in whole seconds: the two calls may be a second apart.
    fast_retry, slow_retry = (h.pop("Retry-After", None) for h in (fast_headers, slow_headers))
    assert fast_headers == slow_headers
    if case == "rate_limited":
        assert abs(int(fast_retry) - int(slow_retry)) <= 1
    else:
        assert fast_retry is slow_retry is None


def test_a_caller_asking_for_a_language_gets_the_flask_view_in_it(client, app, app_context,
                                                                   flask_requests):
    offer, _link, click_id = live_setup()
    response = client.get(postback_url(offer, click_id, secret="wrong"),
                          headers={"Accept-Language": "ru"})
    assert flask_requests and response.status_code == 401
    assert response.json["status"] == "bad_signature"
    with app.test_request_context(), force_locale("ru"):
        russian = str(BadSignature.default_message)
    assert response.json["message"] == russian != str(BadSignature.default_message)


def test_an_accepted_answer_is_in_each_callers_language(client, app, app_context):
    """The accepted answers' messages are translated once per language (Outcome.text), so
    the lane's English answer and a Russian caller's never swap."""
    offer, link, _click = live_setup()
    messages = []
    for run, language in enumerate(["ru", None, "ru", None]):
        headers = {"Accept-Language": language} if language else {}
        response = client.get(postback_url(offer, stored_click(link), txid=f"L-{run}"),
                              headers=headers)
        assert response.json["status"] == "ok"
        messages.append(response.json["message"])
    with app.test_request_context(), force_locale("ru"):
        russian = str(ACCEPTED["ok"][1])
    english = str(ACCEPTED["ok"][1])
    assert messages == [russian, english, russian, english] and russian != english


def test_a_repeated_parameter_counts_its_first_value_as_flask_reads_it(client, app_context,
                                                                        flask_requests):
    offer, _link, click_id = live_setup()
    response = client.get(postback_url(offer, click_id, txid="FIRST") + "&txid=SECOND")
    assert response.json["status"] == "ok" and not flask_requests
    assert [c.txid for c in conversions()] == ["FIRST"]


def test_when_the_lane_fails_flask_answers_and_records_once(client, app_context, monkeypatch,
                                                             flask_requests):
    offer, _link, click_id = live_setup()
    from offers import postback_fastpath

    monkeypatch.setattr(postback_fastpath, "query_params",
                        lambda _q: (_ for _ in ()).throw(RuntimeError("boom")))
    response = client.get(postback_url(offer, click_id))
    assert response.status_code == 200 and response.json["status"] == "ok"
    assert flask_requests and len(conversions()) == 1


# The offer cache: a change committed before a postback is what that postback pays by.

def cached_versions() -> dict:
    return {offer_id: version for (_engine, offer_id), (version, _offer)
            in offer_cache._cache.items()}


def test_a_goal_payout_change_is_paid_by_the_next_postback(client, app_context):
    offer, link, click_id = live_setup()
    assert client.get(postback_url(offer, click_id, txid="A")).json["status"] == "ok"
    assert offer.id in cached_versions()
    db.session.execute(update(Goal).where(Goal.offer_id == offer.id).values(payout=7_00))
    db.session.commit()  # plain SQL, no ORM event: the trigger moves the offer's version
    response = client.get(postback_url(offer, stored_click(link), txid="B"))
    assert response.json["status"] == "ok"
    assert [c.payout for c in conversions()] == [10_00, 7_00]


def test_a_paused_offer_refuses_the_next_postback(client, app_context):
    offer, link, click_id = live_setup()
    assert client.get(postback_url(offer, click_id, txid="A")).json["status"] == "ok"
    services.change_status(offer, st.PAUSED)
    db.session.commit()
    response = client.get(postback_url(offer, stored_click(link), txid="B"))
    assert response.json["status"] == "offer_paused"


def test_a_new_cap_holds_from_the_next_postback(client, app_context, monkeypatch):
    one_conversion_instant(monkeypatch)
    offer, link, click_id = live_setup()
    assert client.get(postback_url(offer, click_id, txid="A")).json["status"] == "ok"
    db.session.add(OfferCap(offer_id=offer.id, scope="offer", period="day",
                            metric="conversions", cap_limit=1))
    db.session.commit()
    response = client.get(postback_url(offer, stored_click(link), txid="B"))
    assert response.json["status"] == "cap_reached"


def test_a_removed_goal_is_unknown_to_the_next_postback(client, app_context):
    offer, link, click_id = live_setup(goals=(services.GoalData("registration", "fixed", 1_00),
                                              services.GoalData("sale", "fixed", 5_00)))
    assert client.get(postback_url(offer, click_id, goal="sale", txid="A")).json["status"] == "ok"
    db.session.execute(text("DELETE FROM offer_goals WHERE offer_id = :id AND code = 'sale'"),
                       {"id": offer.id})
    db.session.commit()
    response = client.get(postback_url(offer, stored_click(link), goal="sale", txid="B"))
    assert response.json["status"] == "goal_unknown"


def test_a_stored_click_brings_its_offers_version_so_the_cache_asks_nothing(
        client, app_context, monkeypatch):
    """The click's statement reads its offer's version (offers.tracking): a postback on an
    unchanged offer runs no version query of the offer cache's own. That a change is still
    seen by the next postback, the tests before this one show."""
    offer, link, _click = live_setup()
    assert client.get(postback_url(offer, stored_click(link), txid="W")).json["status"] == "ok"
    asked = []
    real = offer_cache.VERSION.scalar
    monkeypatch.setattr(offer_cache.VERSION, "scalar",
                        lambda params: asked.append(params) or real(params))
    click_id = stored_click(link)
    assert client.get(postback_url(offer, click_id, txid="V")).json["status"] == "ok"
    assert asked == []


def test_the_lanes_session_setting_stays_in_the_lane(client, app_context):
    """The lane keeps its objects unexpired at its commit (nothing reads them after); the
    session of every other context still expires them."""
    offer, link, _click = live_setup()
    assert client.get(postback_url(offer, stored_click(link), txid="S")).json["status"] == "ok"
    assert db.session().expire_on_commit is True
    slow = client.get(postback_url(offer, stored_click(link), txid="S2"), headers=BROWSER)
    assert slow.json["status"] == "ok"
    assert db.session().expire_on_commit is True


def test_an_unchanged_offer_is_not_loaded_again(client, app_context, monkeypatch):
    offer, link, click_id = live_setup()
    assert client.get(postback_url(offer, click_id, txid="A")).json["status"] == "ok"
    loads = []
    real = offer_cache.load
    monkeypatch.setattr(offer_cache, "load", lambda offer_id: loads.append(offer_id) or real(
        offer_id))
    for n in range(3):
        response = client.get(postback_url(offer, stored_click(link), txid=f"N-{n}"))
        assert response.json["status"] == "ok"
    assert loads == []
