"""The conversion contract's codes: every answer to a postback, pixel or promo-code conversion
carries one, with a human message and the HTTP status below. Stable: integrations rely on them.

    ok                   200  recorded; the payout is held in escrow until the hold period ends
    duplicate            200  the same offer + goal + txid (or a once-per-click goal's click) was
                              recorded before: its conversion id, nothing new
    fraud_suspected      202  recorded, held for the operator's fraud review
    insufficient_funds   202  recorded, waiting for funds; the offer is paused
    invalid_request      400  a required parameter is missing or malformed
    bad_signature        401  neither the offer's secret nor a valid HMAC signature
    geo_not_allowed      403  the click's country is not among the offer's
    publisher_blocked    403  the publisher is blocked: their links do not pay
    unknown_click        404  no such click (or no attribution cookie, for a pixel)
    unknown_promo_code   404  no such promo code on the advertiser's offers
    offer_paused         409  the offer is not live
    cap_reached          409  a cap of the offer is reached
    sequence_incomplete  409  the goal needs an earlier goal from the same click or customer
    expired_click        410  the click is older than the offer's attribution window
    goal_unknown         422  the offer has no goal with this code
    amount_invalid       422  the amount is not whole minor units, or a percent goal has none
    amount_below_minimum 422  the goal pays from a minimum sale amount
    currency_mismatch    422  the currency is not the offer's
    request_too_large    413  the body is larger than the server reads (MAX_CONTENT_LENGTH)
    rate_limited         429  the offer's postbacks come faster than RATELIMIT_POSTBACK; see
                              the Retry-After header
"""

from flask_babel import lazy_gettext as _l

from cpa_network.errors import DomainError
from offers.rules import CapReached, GeoNotAllowed  # noqa: F401 - part of the contract

ACCEPTED = {  # code -> (HTTP status, message) of answers that recorded a conversion
    "ok": (200, _l("The conversion is recorded; its payout is held in escrow until the end "
                   "of the hold period.")),
    "duplicate": (200, _l("This conversion was recorded before; nothing new was created.")),
    "fraud_suspected": (202, _l("The conversion is recorded and held for a fraud review.")),
    "insufficient_funds": (202, _l("The conversion is recorded, but the escrow does not "
                                   "cover it: it waits for funds and the offer is paused.")),
}


class InvalidPostback(DomainError):
    code = "invalid_request"
    http_status = 400
    default_message = _l("Send click_id, goal and txid.")


class BadSignature(DomainError):
    code = "bad_signature"
    http_status = 401
    default_message = _l("Authenticate with the offer's postback secret or an HMAC signature.")


class PublisherBlocked(DomainError):
    code = "publisher_blocked"
    http_status = 403
    default_message = _l("The publisher of this click is blocked; their links do not pay.")


class UnknownClick(DomainError):
    code = "unknown_click"
    http_status = 404
    default_message = _l("No click with this id.")


class UnknownPromoCode(DomainError):
    code = "unknown_promo_code"
    http_status = 404
    default_message = _l("No such promo code on your offers.")


class OfferPaused(DomainError):
    code = "offer_paused"
    http_status = 409
    default_message = _l("The offer is not live, so it does not take conversions.")


class SequenceIncomplete(DomainError):
    code = "sequence_incomplete"
    http_status = 409
    default_message = _l("This goal pays only after an earlier goal from the same click or "
                         "customer.")


class ExpiredClick(DomainError):
    code = "expired_click"
    http_status = 410
    default_message = _l("The click is older than the offer's attribution window.")


class GoalUnknown(DomainError):
    code = "goal_unknown"
    http_status = 422
    default_message = _l("The offer has no goal with this code.")


class AmountInvalid(DomainError):
    code = "amount_invalid"
    http_status = 422
    default_message = _l("The amount is a whole number of minor units (1250 for 12.50).")


class AmountBelowMinimum(DomainError):
    code = "amount_below_minimum"
    http_status = 422
    default_message = _l("The sale amount is below this goal's minimum.")


class CurrencyMismatch(DomainError):
    code = "currency_mismatch"
    http_status = 422
    default_message = _l("The currency is not the offer's.")


class RequestTooLarge(DomainError):
    code = "request_too_large"
    http_status = 413
    default_message = _l("The request body is too large. Send the parameters in the query "
                         "string or in a smaller body.")
