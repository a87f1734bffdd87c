"""Publishers' outgoing postbacks: a real loopback HTTP server plays the publisher's tracker;
real RQ workers (burst) call it, sign it, time out, retry with backoff, and log deliveries."""

import hashlib
import hmac
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from cpa_network.extensions import db
from offers import outgoing, review
from offers.conversion_models import PostbackDelivery
from tests.conftest import run_worker_burst
from tests.offers.conversion_helpers import live_setup, postback_url


class Tracker:
    """The publisher's endpoint: records each request and answers from a script of statuses
    (the last one repeats); `delay` makes it slow."""

    def __init__(self, statuses=(200,), delay: float = 0.0):
        self.statuses, self.delay, self.requests = list(statuses), delay, []
        tracker = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                tracker.requests.append((self.path, dict(self.headers)))
                time.sleep(tracker.delay)
                status = tracker.statuses.pop(0) if len(tracker.statuses) > 1 else \
                    tracker.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


TEMPLATE = "/pb?cid={click_id}&s1={sub1}&payout={payout}&status={status}&id={conversion_id}" \
           "&offer={offer_id}&event={event}"


def deliveries() -> list[PostbackDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(PostbackDelivery).order_by(PostbackDelivery.id)))


def _convert(client, tracker, *, on_approved=True):
    offer, link, click_id = live_setup()
    outgoing.save_settings(link.publisher_id, tracker.url + TEMPLATE, on_created=True,
                           on_approved=on_approved, on_rejected=True)
    db.session.commit()
    assert client.get(postback_url(offer, click_id)).json["status"] == "ok"
    return offer, link, click_id


def test_created_and_approved_events_are_delivered_signed(app, client, app_context):
    with Tracker() as tracker:
        offer, link, click_id = _convert(client, tracker)
        assert run_worker_burst(app, "--no-beat").returncode == 0
        [(path, headers)] = tracker.requests
        query = parse_qs(urlsplit(path).query)
        [delivery] = deliveries()
        assert query == {"cid": [click_id], "s1": ["s1"], "payout": ["10.00"],
                         "status": ["pending"], "id": [str(delivery.conversion_id)],
                         "offer": [str(offer.id)], "event": ["created"]}
        stamp, signed = (part.split("=", 1)[1] for part in
                         headers["X-CPA-Signature"].split(","))
        secret = outgoing.settings_for(link.publisher_id).secret
        expected = hmac.new(secret.encode(), f"{stamp}.{tracker.url}{path}".encode(),
                            hashlib.sha256).hexdigest()
        assert hmac.compare_digest(signed, expected)
        assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
            "delivered", 1, 200)
        review.decide(offer.advertiser, delivery.conversion_id, "approve")
        db.session.commit()
        assert run_worker_burst(app, "--no-beat").returncode == 0
        assert parse_qs(urlsplit(tracker.requests[1][0]).query)["status"] == ["approved"]
        assert [d.event for d in deliveries()] == ["created", "approved"]


def test_failures_are_retried_with_backoff_until_delivered(app, client, app_context):
    with Tracker(statuses=(500, 503, 200)) as tracker:
        _convert(client, tracker)
        result = run_worker_burst(app, "--no-beat")
        assert result.returncode == 0, result.stderr[-2000:]
        assert len(tracker.requests) == 3
        [delivery] = deliveries()
        assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
            "delivered", 3, 200)


def test_a_dead_endpoint_fails_after_the_last_attempt(app, client, app_context, monkeypatch):
    monkeypatch.setenv("OUTGOING_POSTBACK_TIMEOUT_S", "0.3")
    with Tracker(delay=1.0) as tracker:
        _convert(client, tracker)
        assert run_worker_burst(app, "--no-beat").returncode == 0
        assert len(tracker.requests) == 3  # the first try and two retries ("0,0" in tests)
        [delivery] = deliveries()
        assert delivery.state == "failed" and delivery.attempts == 3
        assert "Timeout" in delivery.last_error
    client.login(delivery_owner_email(delivery))
    page = client.get("/conversions/postback").get_data(as_text=True)
    assert "failed" in page and "Timeout" in page


def delivery_owner_email(delivery) -> str:
    from cpa_network.accounts.models import User

    return db.session.get(User, delivery.publisher_id).email


def test_no_delivery_for_events_the_publisher_did_not_ask_for(app, client, app_context):
    with Tracker() as tracker:
        offer, _link, _click = _convert(client, tracker, on_approved=False)
        conversion_id = deliveries()[0].conversion_id
        review.decide(offer.advertiser, conversion_id, "approve")
        db.session.commit()
        assert [d.event for d in deliveries()] == ["created"]


def test_private_addresses_are_refused_outside_development(app, client, app_context,
                                                           monkeypatch):
    with Tracker() as tracker:
        _convert(client, tracker)
        monkeypatch.setenv("OUTGOING_POSTBACK_ALLOW_PRIVATE", "0")
        assert run_worker_burst(app, "--no-beat").returncode == 0
        assert tracker.requests == []
        [delivery] = deliveries()
        assert delivery.state == "failed" and "not allowed" in delivery.last_error


@pytest.mark.parametrize("url", ["ftp://x.example/a", "https://x.example/?a={nope}",
                                 "not a url", "https://user@x.example/"])
def test_bad_templates_are_refused_next_to_the_field(url, client, app_context):
    _offer, link, _click = live_setup()
    client.login(link.publisher.email)
    response = client.submit("/conversions/postback", {"url_template": url,
                                                       "on_created": "y"})
    assert response.status_code == 422
    assert "Enter a full http(s) address" in response.get_data(as_text=True)
    assert outgoing.settings_for(link.publisher_id) is None


def test_the_publisher_saves_a_template_on_the_page(client, app_context):
    _offer, link, _click = live_setup()
    client.login(link.publisher.email)
    response = client.submit("/conversions/postback",
                             {"url_template": "https://t.example/pb?cid={click_id}",
                              "on_created": "y", "on_rejected": "y"})
    assert response.status_code == 302
    found = outgoing.settings_for(link.publisher_id)
    assert (found.on_created, found.on_approved, found.on_rejected) == (True, False, True)
    assert len(found.secret) == 48
