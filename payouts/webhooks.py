"""POST /webhooks/stripe: signed notifications from Stripe, the only thing that credits a Stripe
deposit (an advertiser's escrow or a publisher's available balance).

A request whose signature does not verify with STRIPE_WEBHOOK_SECRET (tampered, stale beyond
Stripe's five-minute tolerance, or unsigned) gets 400 and changes nothing.
"""

import json

import stripe
from flask import Blueprint, current_app, jsonify, request

from cpa_network.errors import DomainError, json_error
from cpa_network.extensions import csrf, db
from payouts.stripe_events import handle_event

bp = Blueprint("webhooks", __name__)
csrf.exempt(bp)  # Stripe signs the body instead; there is no browser session here

SIGNATURE_TOLERANCE_S = 300  # Stripe's default: older signed payloads are replays


@bp.route("/webhooks/stripe", methods=["POST"])
def stripe_webhook():
    # Stripe signs Connect events (account.updated) with the Connect endpoint's own secret.
    secrets = [current_app.config.get(name) for name in ("STRIPE_WEBHOOK_SECRET",
                                                         "STRIPE_CONNECT_WEBHOOK_SECRET")]
    secrets = [secret for secret in secrets if secret]
    if not secrets:
        return _refuse("webhooks_not_configured", "STRIPE_WEBHOOK_SECRET is not set.")
    payload = request.get_data()
    try:
        _verify(payload, request.headers.get("Stripe-Signature", ""), secrets)
    except stripe.SignatureVerificationError:
        return _refuse("signature_invalid", "The Stripe-Signature header does not verify.")
    except ValueError:
        return _refuse("payload_invalid", "The body is not a JSON event.")
    event = json.loads(payload)
    try:
        outcome = handle_event(event)
    except DomainError as error:  # not processable yet: nothing is stored, Stripe sends it again
        db.session.rollback()
        response, status = json_error(error.code, error.message, error.http_status)
        if getattr(error, "retry_after", None):
            response.headers["Retry-After"] = str(error.retry_after)
        return response, status
    db.session.commit()
    return jsonify(received=True, id=event["id"], outcome=outcome)


def _verify(payload: bytes, signature: str, secrets: list[str]) -> None:
    """Raise unless one of the secrets verifies the signature (and the timestamp is fresh)."""
    for secret in secrets[:-1]:
        try:
            stripe.Webhook.construct_event(payload, signature, secret,
                                           tolerance=SIGNATURE_TOLERANCE_S)
            return
        except stripe.SignatureVerificationError:
            continue
    stripe.Webhook.construct_event(payload, signature, secrets[-1],
                                   tolerance=SIGNATURE_TOLERANCE_S)


def _refuse(code: str, message: str):
    current_app.logger.warning("stripe webhook refused: %s", code)
    return jsonify(error={"code": code, "message": message}), 400
