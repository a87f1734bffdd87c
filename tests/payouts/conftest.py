"""Money fixtures: the Stripe fake wired into both app instances, and webhook delivery."""

import json

import pytest

from tests.payouts.workers import kill_leftovers
from tests.stripe_fake import API_KEY, WEBHOOK_SECRET, FakeStripe, sign


@pytest.fixture(autouse=True)
def _no_stray_workers():
    """A test that failed half-way must not leave its workers running into the next test."""
    yield
    kill_leftovers()


@pytest.fixture
def stripe_fake(app, test_side_app):
    """Both apps use Stripe (the local fake) instead of the sandbox for this test."""
    fake = FakeStripe().start()
    settings = {"STRIPE_SECRET_KEY": API_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "STRIPE_API_BASE": fake.url}
    saved = [(a, {k: a.config.get(k) for k in settings}) for a in (app, test_side_app)]
    for instance, _ in saved:
        instance.config.update(settings)
        instance.extensions.pop("cpa_gateway", None)
    yield fake
    for instance, old in saved:
        instance.config.update(old)
        instance.extensions.pop("cpa_gateway", None)
    fake.stop()


def deliver(client, event: dict, secret: str = WEBHOOK_SECRET, timestamp: int | None = None,
            body: bytes | None = None):
    """POST a signed event to /webhooks/stripe, as Stripe does (`body` overrides what is sent)."""
    payload = json.dumps(event).encode()
    return client.post("/webhooks/stripe", data=body if body is not None else payload,
                       headers={"Stripe-Signature": sign(payload, secret, timestamp),
                                "Content-Type": "application/json"})


@pytest.fixture
def fast_retries(app, test_side_app, monkeypatch):
    """RQ retries of payout jobs at once (no backoff), in this process and in workers."""
    for instance in (app, test_side_app):
        monkeypatch.setitem(instance.config, "PAYOUT_RETRY_INTERVALS", [0, 0, 0])
    monkeypatch.setenv("PAYOUT_RETRY_INTERVALS", "0,0,0")


@pytest.fixture
def stripe_workers(stripe_fake, fast_retries, monkeypatch):
    """Worker processes started by this test talk to the Stripe fake, with a short timeout."""
    monkeypatch.setenv("STRIPE_SECRET_KEY", API_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", stripe_fake.url)
    monkeypatch.setenv("STRIPE_TIMEOUT_S", "2")
    return stripe_fake
