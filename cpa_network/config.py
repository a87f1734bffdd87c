"""Configuration: classes per environment, overridden by environment variables at start-up.

Every variable is documented in the README (Configuration) with its default.
"""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"


def _int_list(value: str) -> list[int]:
    """"30,120,600" -> [30, 120, 600]."""
    return [int(part) for part in value.split(",") if part.strip()]


def basis_points_list(text: str) -> tuple[int, ...]:
    """`"1000,300,100"` -> (1000, 300, 100): non-negative, together at most the whole (10000)."""
    rates = tuple(_int_list(text))
    if any(rate < 0 for rate in rates) or sum(rates) > 10_000:
        raise RuntimeError("REFERRAL_COMMISSION_BP: basis points >= 0 that sum to <= 10000")
    return rates


# Environment variables read at start-up: name -> (config key, type).
ENVIRONMENT_SETTINGS = {
    "SECRET_KEY": ("SECRET_KEY", str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "REDIS_URL": ("REDIS_URL", str),
    "RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    "STRIPE_SECRET_KEY": ("STRIPE_SECRET_KEY", str),
    "STRIPE_WEBHOOK_SECRET": ("STRIPE_WEBHOOK_SECRET", str),
    "STRIPE_API_BASE": ("STRIPE_API_BASE", str),
    "PUBLIC_BASE_URL": ("PUBLIC_BASE_URL", str),
    "UPLOAD_DIR": ("UPLOAD_DIR", str),
    "EXPORT_DIR": ("EXPORT_DIR", str),
    "EXPORT_KEEP_DAYS": ("EXPORT_KEEP_DAYS", int),
    "EXPORT_DIRECT_MAX_DAYS": ("EXPORT_DIRECT_MAX_DAYS", int),
    "BACKGROUND_BATCH_SIZE": ("BACKGROUND_BATCH_SIZE", int),
    "RATELIMIT_LOGIN": ("RATELIMIT_LOGIN", str),
    "RATELIMIT_SIGNUP": ("RATELIMIT_SIGNUP", str),
    "RATELIMIT_POSTBACK": ("RATELIMIT_POSTBACK", str),
    "RATELIMIT_API": ("RATELIMIT_API", str),
    "RATELIMIT_PIXEL": ("RATELIMIT_PIXEL", str),
    "RATELIMIT_DEPOSIT_LOOKUP": ("RATELIMIT_DEPOSIT_LOOKUP", str),
    "LAST_SEEN_RESOLUTION_S": ("LAST_SEEN_RESOLUTION_S", int),
    "PROXY_FIX_X_FOR": ("PROXY_FIX_X_FOR", int),
    "CLICK_REDIS_URL": ("CLICK_REDIS_URL", str),
    "CLICK_ROUTE_CACHE_TTL_S": ("CLICK_ROUTE_CACHE_TTL_S", int),
    "CLICK_UNIQUE_WINDOW_S": ("CLICK_UNIQUE_WINDOW_S", int),
    "CLICK_FLOOD_LIMIT": ("CLICK_FLOOD_LIMIT", int),
    "CLICK_FLOOD_WINDOW_S": ("CLICK_FLOOD_WINDOW_S", int),
    "CLICK_FLUSH_INTERVAL_S": ("CLICK_FLUSH_INTERVAL_S", float),
    "CLICK_FLUSH_BATCH": ("CLICK_FLUSH_BATCH", int),
    "CLICK_REDIS_RETRY_S": ("CLICK_REDIS_RETRY_S", int),
    "CLICK_RETENTION_MONTHS": ("CLICK_RETENTION_MONTHS", int),
    "CLICK_PARTITIONS_AHEAD": ("CLICK_PARTITIONS_AHEAD", int),
    "DATABASE_REPLICA_URL": ("DATABASE_REPLICA_URL", str),
    "CATALOG_MIN_CLICKS": ("CATALOG_MIN_CLICKS", int),
    "CREATIVE_MAX_BYTES": ("CREATIVE_MAX_BYTES", int),
    "MAX_CONTENT_LENGTH": ("MAX_CONTENT_LENGTH", int),
    "STRIPE_CONNECT_WEBHOOK_SECRET": ("STRIPE_CONNECT_WEBHOOK_SECRET", str),
    "STRIPE_TIMEOUT_S": ("STRIPE_TIMEOUT_S", float),
    "PAYOUT_MINIMUM": ("PAYOUT_MINIMUM", str),
    "PAYOUT_JOB_TIMEOUT_S": ("PAYOUT_JOB_TIMEOUT_S", int),
    "PAYOUT_RETRY_INTERVALS": ("PAYOUT_RETRY_INTERVALS", _int_list),
    "PAYOUT_STUCK_AFTER_S": ("PAYOUT_STUCK_AFTER_S", int),
    "PAYOUT_BATCH_SIZE": ("PAYOUT_BATCH_SIZE", int),
    "PAYOUT_BATCH_THREADS": ("PAYOUT_BATCH_THREADS", int),
    "TOP_UP_CLEARING_DAYS": ("TOP_UP_CLEARING_DAYS", int),
    # Conversions (offers/): fee, fraud signals, the postback log, outgoing postbacks.
    "NETWORK_FEE_BP": ("NETWORK_FEE_BP", int),
    "FRAUD_MIN_CLICK_SECONDS": ("FRAUD_MIN_CLICK_SECONDS", int),
    "FRAUD_IP_CONVERSIONS": ("FRAUD_IP_CONVERSIONS", int),
    "POSTBACK_LOG_DAYS": ("POSTBACK_LOG_DAYS", int),
    "OUTGOING_POSTBACK_TIMEOUT_S": ("OUTGOING_POSTBACK_TIMEOUT_S", float),
    "OUTGOING_POSTBACK_RETRY_S": ("OUTGOING_POSTBACK_RETRY_S", str),
    "OUTGOING_POSTBACK_ALLOW_PRIVATE": ("OUTGOING_POSTBACK_ALLOW_PRIVATE", lambda v: v == "1"),
    "REFERRAL_COMMISSION_BP": ("REFERRAL_COMMISSION_BP", basis_points_list),
    "EXCHANGE_MIN_PRICE": ("EXCHANGE_MIN_PRICE", int),
    "EXCHANGE_COMMISSION_BP": ("EXCHANGE_COMMISSION_BP", int),
    "EXCHANGE_GUARANTEE_DAYS": ("EXCHANGE_GUARANTEE_DAYS", int),
    "EXCHANGE_MIN_OWNED_DAYS": ("EXCHANGE_MIN_OWNED_DAYS", int),
}


class Config:
    """Settings shared by every environment."""

    APP_ENV = "production"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'cpa_network.sqlite3'}"
    # A pooled connection is pinged before use, so a database restart fails no request (on
    # PostgreSQL the ping is the transaction's BEGIN: cpa_network.database._begin_on_checkout).
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # A read replica for the statistics pages and API (empty: they read the primary).
    DATABASE_REPLICA_URL = ""
    REDIS_URL = "redis://127.0.0.1:6379/0"
    STRIPE_SECRET_KEY = ""  # nosec B105 # empty: the sandbox gateway is used
    STRIPE_WEBHOOK_SECRET = ""  # nosec B105 # empty: webhooks are refused until it is set
    STRIPE_API_BASE = ""  # empty: Stripe's own; tests point the SDK at a local fake
    PUBLIC_BASE_URL = ""  # empty: links use the request's host

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = str(Path(__file__).parent / "translations")
    LANGUAGES = {"en": "English", "ru": "Русский"}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    HSTS = True

    RATELIMIT_STORAGE_URI = ""  # empty: REDIS_URL
    RATELIMIT_HEADERS_ENABLED = True
    # If Redis is briefly away, let people log in rather than lock everyone out.
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_LOGIN = "10 per minute;50 per hour"
    RATELIMIT_SIGNUP = "5 per minute;30 per hour"
    RATELIMIT_POSTBACK = "100 per second"  # authenticated postbacks per offer
    RATELIMIT_API = "600 per minute"  # API calls per API key
    # Pixel calls per offer from one address: a customer's browser fires one per order, while a
    # held attribution cookie could otherwise fire conversions with made-up txids at will.
    RATELIMIT_PIXEL = "30 per minute;300 per day"
    # A pending deposit's page asks Stripe for its Checkout's state, per user; past this the
    # page shows what we know without asking. Stripe's rate limit is the whole platform's: a
    # page left refreshing must not spend it for everyone's payouts.
    RATELIMIT_DEPOSIT_LOOKUP = "10 per minute"

    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105  # nosec B105 # a method name, not a password
    LAST_SEEN_RESOLUTION_S = 300  # how stale last_seen_at may get before it is rewritten
    UPLOAD_DIR = str(INSTANCE_DIR / "uploads")
    # Background jobs (cpa_network/background): exports and bulk decisions with progress.
    EXPORT_DIR = str(INSTANCE_DIR / "exports")  # finished CSV files, served only to their owner
    EXPORT_KEEP_DAYS = 7  # a daily job deletes finished jobs and their files older than this
    EXPORT_DIRECT_MAX_DAYS = 31  # a CSV export of up to this many days streams at once
    BACKGROUND_BATCH_SIZE = 100  # items per committed batch (and progress step) of a job
    # Behind N reverse proxies, trust N hops of X-Forwarded-For/-Proto/-Host (0: none).
    PROXY_FIX_X_FOR = 0

    # The click path and tracking (offers/): see the README's "The click path".
    CLICK_REDIS_URL = ""  # empty: REDIS_URL; a durable Redis (AOF) of its own in production
    CLICK_ROUTE_CACHE_TTL_S = 30  # how long a process keeps a link's route without re-reading
    CLICK_UNIQUE_WINDOW_S = 86400  # a repeat visit within this window is not unique
    CLICK_FLOOD_LIMIT = 30  # more clicks than this from one IP within the window are flagged
    CLICK_FLOOD_WINDOW_S = 60
    CLICK_FLUSH_INTERVAL_S = 2.0  # clicks reach the database (and stats) within about this
    CLICK_FLUSH_BATCH = 1000  # clicks per flush transaction
    CLICK_FLUSH_MAX_S = 20  # one flush job's time slice; a backlog continues in the next job
    CLICK_FLUSH_RECLAIM_IDLE_S = 60  # entries a crashed flush left unacknowledged this long
    CLICK_REDIS_RETRY_S = 5  # after a Redis failure, clicks go to the database this long
    # Raw clicks (monthly partitions on PostgreSQL) are dropped after this many whole months
    # (0: kept forever); rollups and conversions are kept forever. offers.partitions.
    CLICK_RETENTION_MONTHS = 13
    CLICK_PARTITIONS_AHEAD = 3  # monthly click partitions created ahead of the current month
    CATALOG_MIN_CLICKS = 100  # below this many valid clicks in 30 days an offer shows as "new"
    CREATIVE_MAX_BYTES = 1024 * 1024  # banner upload limit
    # Any request body larger is refused with 413 before it is read (an upload is read into
    # memory whole). None: CREATIVE_MAX_BYTES + 1 MiB, the largest form plus its fields.
    MAX_CONTENT_LENGTH: int | None = None

    # Payouts (payouts/): see the README's "Payouts".
    STRIPE_CONNECT_WEBHOOK_SECRET = ""  # nosec B105 # empty: no separate Connect endpoint
    STRIPE_TIMEOUT_S = 20.0  # one Stripe HTTP call; well below PAYOUT_JOB_TIMEOUT_S
    PAYOUT_MINIMUM = "50.00"  # the network's minimum payout, in major units of any currency
    PAYOUT_JOB_TIMEOUT_S = 180  # RQ kills a payout job running longer than this
    PAYOUT_RETRY_INTERVALS = [30, 120, 600, 1800, 3600]  # transient gateway errors, seconds
    PAYOUT_STUCK_AFTER_S = 600  # the reconciler looks at payouts unfinished for this long
    PAYOUT_BATCH_SIZE = 100  # payouts per job in the weekly automatic run
    PAYOUT_BATCH_THREADS = 4  # transfers of a batch in flight at once (PostgreSQL)
    TOP_UP_CLEARING_DAYS = 30  # a card top-up can be spent at once, withdrawn after this long
    # Conversions (offers/): see the README's "Conversions".
    NETWORK_FEE_BP = 1000  # the network's fee on top of each payout, basis points (10 %)
    FRAUD_MIN_CLICK_SECONDS = 15  # a conversion sooner after its click is suspect
    FRAUD_IP_CONVERSIONS = 5  # this many conversions of an offer from one IP in 24 h: suspect
    POSTBACK_LOG_DAYS = 90  # how long the postback log keeps a line
    OUTGOING_POSTBACK_TIMEOUT_S = 5.0  # per call of a publisher's postback URL
    OUTGOING_POSTBACK_RETRY_S = "30,120,600,1800,7200"  # backoff between attempts, seconds
    OUTGOING_POSTBACK_ALLOW_PRIVATE = False  # call private/loopback addresses (dev, tests)

    # The referral program and the exchange (payouts/commissions.py, publishers/exchange*.py).
    REFERRAL_COMMISSION_BP = (1000, 300, 100)  # share of the network fee per upline level
    EXCHANGE_MIN_PRICE = 500  # minor units of the lot's currency
    EXCHANGE_COMMISSION_BP = 500  # the exchange's cut of a released sale, to network revenue
    EXCHANGE_GUARANTEE_DAYS = 7  # the buyer's money waits this long; disputes are open till then
    EXCHANGE_MIN_OWNED_DAYS = 7  # a referral can be listed this long after its upline got it


class DevelopmentConfig(Config):
    """`make run`: plain HTTP on loopback, a fixed key is acceptable."""

    APP_ENV = "development"
    SECRET_KEY = "dev-only-not-secret"  # noqa: S105  # nosec B105 # development only
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    HSTS = False


class TestingConfig(DevelopmentConfig):
    """The test suite: PostgreSQL and Redis given by the fixtures."""

    APP_ENV = "testing"
    TESTING = True
    SECRET_KEY = "testing-not-secret"  # noqa: S105  # nosec B105 # the test suite's key
    RATELIMIT_SWALLOW_ERRORS = False
    # Hashing is not under test here; a cheap method keeps user factories fast.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105  # nosec B105 # a method name
    OUTGOING_POSTBACK_ALLOW_PRIVATE = True  # the tests' publisher endpoint is on loopback
    OUTGOING_POSTBACK_RETRY_S = "0,0"  # retried at once, so a burst worker sees every attempt


class ProductionConfig(Config):
    """Behind TLS; SECRET_KEY must come from the environment."""


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_class(env_name: str | None = None) -> type[Config]:
    """The config class for APP_ENV (default: production, the safe choice)."""
    name = env_name or os.environ.get("APP_ENV", "production")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"APP_ENV must be one of {sorted(CONFIGS)}, not {name!r}") from None


def environment_overrides() -> dict:
    """Settings given by environment variables, converted to their types."""
    found = {}
    for var, (key, cast) in ENVIRONMENT_SETTINGS.items():
        if os.environ.get(var):
            found[key] = cast(os.environ[var])
    return found
