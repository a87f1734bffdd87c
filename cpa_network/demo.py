"""The demo network (`flask --app wsgi demo load`): built step by step by each package's own
service functions, so it stays valid as the model grows. Seeded, hence deterministic."""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from cpa_network.database import utcnow
from cpa_network.extensions import db

DEMO_PASSWORD = "demo-password-1"  # noqa: S105  # nosec B105 # the demo logins, printed on screen
DEMO_SEED = 20261122


@dataclass
class DemoContext:
    """What the steps share: the seeded random source, 'now', and what earlier steps made."""

    rng: random.Random
    now: datetime
    made: dict = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)


DemoStep = Callable[[DemoContext], None]


def register_demo_steps(app, *steps: DemoStep) -> None:
    """Called by create_app, in layer order: accounts, then money, offers, publishers."""
    app.extensions.setdefault("cpa_demo_steps", []).extend(steps)


def database_is_empty() -> bool:
    from cpa_network.accounts.models import User

    return db.session.scalar(select(func.count(User.id))) == 0


def load_demo(seed: int = DEMO_SEED) -> DemoContext:
    """Run every registered step in one transaction: all of the demo, or none of it."""
    # Not for secrets: a seeded generator makes the demo the same on every machine.
    # Seeded on purpose: the same demo network every time, nothing secret (S311/B311).
    context = DemoContext(rng=random.Random(seed), now=utcnow())  # noqa: S311  # nosec B311 # seeded
    try:
        for step in current_app.extensions.get("cpa_demo_steps", []):
            step(context)
            db.session.flush()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return context


demo_cli = AppGroup("demo", help="The demo network.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if there are users.")
@click.option("--seed", default=DEMO_SEED, show_default=True, help="Random seed.")
def load_command(if_empty: bool, seed: int):
    """Load a demo network: advertisers, publishers, a referral tree, offers, activity."""
    if not database_is_empty():
        if if_empty:
            click.echo("demo: the database already has users; nothing loaded")
            return
        raise click.ClickException("the database is not empty; demo data goes into an empty one")
    context = load_demo(seed)
    click.echo(f"demo network loaded. Logins (password for all: {DEMO_PASSWORD}):")
    for role, email in context.logins:
        click.echo(f"  {role:<11} {email}")
