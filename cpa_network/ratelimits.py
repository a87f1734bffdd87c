"""Rate limits counted by hand where Flask-Limiter's decorators cannot see the key in time.

Flask-Limiter checks its limits before a blueprint's own `before_request`, so a limit keyed by
something the request only reveals later (the API key behind a bearer token, the offer behind
a postback's click id) is counted here, in the same storage and with the same strategy. One hit
is one round trip to Redis (an INCR and EXPIRE pipeline for the fixed window).
"""

import functools
import math
import time

from flask import current_app
from flask_babel import lazy_gettext as _l
from limits import parse_many

from cpa_network.errors import DomainError
from cpa_network.extensions import limiter


class RateLimited(DomainError):
    code = "rate_limited"
    http_status = 429
    default_message = _l("Too many requests. Try again later.")

    def __init__(self, retry_after: int, message=None):
        self.retry_after = max(1, retry_after)
        super().__init__(message)


@functools.lru_cache(maxsize=64)
def _parsed(limits_text: str) -> tuple:
    """The limits of a setting, parsed once (a hit happens on every postback)."""
    return tuple(parse_many(limits_text))


def enforce(limits_text: str, scope: str, key: str) -> None:
    """Count one hit of `scope:key` against each limit in `limits_text` ("100 per second;...");
    raise RateLimited (with the seconds until the window resets) when one is spent."""
    strategy = limiter.limiter
    try:
        for item in _parsed(limits_text):
            if not strategy.hit(item, scope, key):
                reset_at, _remaining = strategy.get_window_stats(item, scope, key)
                raise RateLimited(math.ceil(reset_at - time.time()))
    except RateLimited:
        raise
    except Exception:
        # The storage is down: like Flask-Limiter, let traffic through if told to.
        if not current_app.config.get("RATELIMIT_SWALLOW_ERRORS"):
            raise
        current_app.logger.exception("rate limit storage unreachable; %s not counted", scope)
