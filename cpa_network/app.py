"""The application factory: config, extensions, blueprints, errors, templates, hooks, CLI.

This is the one module allowed to import the higher layers (payouts, offers, publishers):
it wires their blueprints, CLI groups and demo steps into the app.
"""

from flask import Flask

from cpa_network import config as config_module
from cpa_network.config import PROJECT_ROOT


def create_app(env: str | None = None, **overrides) -> Flask:
    """Build the app for APP_ENV (or `env`), with optional config overrides (tests)."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(config_module.INSTANCE_DIR),
    )
    load_config(app, env, overrides)
    init_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_templates(app)
    register_request_hooks(app)
    register_listeners(app)
    register_cli(app)
    return app


def load_config(app: Flask, env: str | None, overrides: dict) -> None:
    """Class defaults for the environment, then environment variables, then overrides."""
    app.config.from_object(config_module.config_class(env))
    app.config.update(config_module.environment_overrides())
    app.config.update(overrides)
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    if not app.config.get("MAX_CONTENT_LENGTH"):
        app.config["MAX_CONTENT_LENGTH"] = app.config["CREATIVE_MAX_BYTES"] + 1024 * 1024
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set in the environment outside development")


def init_extensions(app: Flask) -> None:
    """Bind every extension from cpa_network.extensions to this app."""
    from cpa_network import database, i18n
    from cpa_network.accounts.sessions import init_login
    from cpa_network.extensions import babel, csrf, db, limiter, migrate
    from cpa_network.replica import configure_replica

    configure_replica(app)
    database.configure_engine_options(app)
    db.init_app(app)
    database.init_engine_hooks(app)
    # Batch mode lets the same migrations ALTER tables on SQLite.
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    limiter.init_app(app)
    init_login(app)


def register_blueprints(app: Flask) -> None:
    """Mount every package's pages and the JSON API."""
    from cpa_network.accounts.views import bp as accounts_bp
    from cpa_network.admin.views import bp as admin_bp
    from cpa_network.api import bp as api_bp
    from cpa_network.api.reference import bp as api_docs_bp
    from cpa_network.background.views import bp as jobs_bp
    from cpa_network.i18n import bp as i18n_bp
    from cpa_network.notifications import api as notifications_api  # noqa: F401 - API routes
    from cpa_network.notifications.views import bp as notifications_bp
    from cpa_network.pages import bp as pages_bp
    from offers import access_api  # noqa: F401 - adds its routes to the offers API
    from offers.admin_views import bp as moderation_bp
    from offers.api import bp as offers_api_bp
    from offers.click_views import bp as tracking_bp
    from offers.conversion_api import bp as conversions_api_bp
    from offers.conversion_views import bp as conversions_bp
    from offers.fraud_views import bp as fraud_bp
    from offers.postback_views import bp as postbacks_bp
    from offers.views import bp as offers_bp
    from payouts import api as payouts_api  # noqa: F401 - adds its routes to the API blueprint
    from payouts import ledger_api  # noqa: F401 - adds its routes to the API blueprint
    from payouts.admin_views import admin_bp as ledger_admin_bp
    from payouts.earnings_views import bp as earnings_bp
    from payouts.payout_admin_views import bp as payouts_admin_bp
    from payouts.payout_admin_views import queues_bp
    from payouts.views import bp as payouts_bp
    from payouts.webhooks import bp as webhooks_bp
    from publishers import (
        account_api,  # noqa: F401 - adds links, postbacks and referrals to the API
        exchange_api,  # noqa: F401 - adds the /lots routes to the API
        stats_api,  # noqa: F401 - adds its routes to the publishers API
    )
    from publishers.api import bp as publishers_api_bp
    from publishers.exchange_views import admin_bp as exchange_admin_bp
    from publishers.exchange_views import bp as exchange_bp
    from publishers.rating_views import bp as ratings_bp
    from publishers.referral_views import bp as referrals_bp
    from publishers.stats_views import bp as stats_bp
    from publishers.views import bp as publishers_bp

    for blueprint in (pages_bp, accounts_bp, admin_bp, i18n_bp, notifications_bp, api_bp,
                      api_docs_bp, payouts_bp, ledger_admin_bp, webhooks_bp, earnings_bp,
                      payouts_admin_bp, queues_bp, tracking_bp, offers_bp, moderation_bp,
                      offers_api_bp, postbacks_bp, conversions_bp, fraud_bp, conversions_api_bp,
                      publishers_bp, publishers_api_bp, stats_bp, ratings_bp, exchange_bp,
                      exchange_admin_bp, referrals_bp, jobs_bp):
        app.register_blueprint(blueprint)
    # Click redirects and server-to-server postbacks are answered ahead of Flask's per-request
    # machinery (offers.fastpath, offers.postback_fastpath); the click lane is outermost, so a
    # click redirect passes no other lane's check.
    from offers.fastpath import ClickFastPath
    from offers.postback_fastpath import PostbackFastPath

    app.wsgi_app = ClickFastPath(app, PostbackFastPath(app, app.wsgi_app))


def register_error_handlers(app: Flask) -> None:
    """Site-styled HTML error pages, and JSON errors under /api/."""
    from cpa_network.errors import init_error_handlers

    init_error_handlers(app)


def register_templates(app: Flask) -> None:
    """Template helpers and the navigation each package contributes."""
    from cpa_network.navigation import CORE_NAV, init_template_helpers, register_nav
    from offers.views import NAV as OFFERS_NAV
    from payouts.views import NAV as PAYOUTS_NAV
    from payouts.views import init_money_filters
    from publishers.exchange_views import NAV as EXCHANGE_NAV
    from publishers.referral_views import NAV as REFERRALS_NAV
    from publishers.views import NAV as PUBLISHERS_NAV

    init_template_helpers(app)
    init_money_filters(app)
    register_nav(app, *CORE_NAV, *PAYOUTS_NAV, *OFFERS_NAV, *PUBLISHERS_NAV, *REFERRALS_NAV,
                 *EXCHANGE_NAV)


def register_request_hooks(app: Flask) -> None:
    """Proxy headers if configured; security headers; last-seen stamps for signed-in users."""
    from cpa_network.accounts.sessions import touch_last_seen
    from cpa_network.security import add_security_headers

    hops = app.config["PROXY_FIX_X_FOR"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Visitors' real addresses matter: click uniqueness, flood flags, rate limits.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.before_request(touch_last_seen)
    app.after_request(add_security_headers)


def register_listeners(app: Flask) -> None:
    """Callbacks lower layers run without importing upward: a blocked publisher's conversions
    are rejected (and their exchange lots withdrawn), a blocked advertiser's offers paused,
    logins are traced for fraud checks, new escrow funds waiting conversions (and a chargeback's
    withdrawal pauses the offers the escrow no longer backs), background jobs
    find the kinds (exports, bulk review) the packages define."""
    from cpa_network.accounts.services import register_block_listener
    from cpa_network.background.services import register_job_kinds
    from offers.advertiser_block import pause_offers_of_blocked
    from offers.bulk_review import JOB_KINDS as CONVERSION_JOB_KINDS
    from offers.fraud import init_login_trace, reject_publisher_conversions
    from offers.tasks import fund_awaiting_conversions, pause_unfunded_offers
    from payouts.deposits import register_credit_listener
    from payouts.disputes import register_withdrawn_listener
    from publishers.exchange import withdraw_lots_of_blocked
    from publishers.exports import JOB_KINDS as STATS_JOB_KINDS

    register_block_listener(app, reject_publisher_conversions)
    register_block_listener(app, withdraw_lots_of_blocked)
    register_block_listener(app, pause_offers_of_blocked)
    register_job_kinds(app, *CONVERSION_JOB_KINDS, *STATS_JOB_KINDS)
    init_login_trace(app)
    register_credit_listener(app, fund_awaiting_conversions)
    register_withdrawn_listener(app, pause_unfunded_offers)


def register_cli(app: Flask) -> None:
    """Operator commands (users, worker, ledger, payouts, demo), periodic jobs, demo steps."""
    from cpa_network.accounts.demo import create_people
    from cpa_network.background.tasks import PERIODIC as BACKGROUND_JOBS
    from cpa_network.cli import init_cli
    from cpa_network.demo import demo_cli, register_demo_steps
    from cpa_network.schedule import register_periodic
    from offers.cli import tracking_cli
    from offers.conversion_demo import create_conversions
    from offers.demo import create_offers
    from offers.tasks import PERIODIC as TRACKING_JOBS
    from payouts.cli import ledger_cli, payouts_cli
    from payouts.demo import fund_advertisers, pay_publishers
    from payouts.tasks import PERIODIC as PAYOUT_JOBS
    from publishers.cli import ratings_cli
    from publishers.demo import create_links_and_clicks, rate_publishers
    from publishers.exchange_demo import create_lots
    from publishers.tasks import PERIODIC as PUBLISHER_JOBS

    init_cli(app)
    app.cli.add_command(demo_cli)
    app.cli.add_command(ledger_cli)
    app.cli.add_command(tracking_cli)
    app.cli.add_command(payouts_cli)
    app.cli.add_command(ratings_cli)
    register_periodic(app, *TRACKING_JOBS, *PAYOUT_JOBS, *PUBLISHER_JOBS, *BACKGROUND_JOBS)
    register_demo_steps(app, create_people, fund_advertisers, create_offers,
                        create_links_and_clicks, create_conversions, pay_publishers,
                        rate_publishers, create_lots)
