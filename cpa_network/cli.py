"""Operator commands: `flask --app wsgi users ...`, `flask --app wsgi worker`."""

import click
from flask import Flask
from flask.cli import AppGroup

from cpa_network.accounts import services
from cpa_network.accounts.models import ROLES, User
from cpa_network.errors import DomainError
from cpa_network.extensions import db
from cpa_network.jobs import QUEUES, run_worker

users_cli = AppGroup("users", help="Create users and API keys.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="advertiser, publisher or admin; repeat for several.")
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--referrer", default=None, help="The upline's invite code.")
@click.option("--name", default="", help="Display name.")
def create_user(email, roles, password, referrer, name):
    """Create a user with the given roles."""
    try:
        user = services.register_user(services.SignUp(
            email=email, password=password, roles=tuple(roles), display_name=name,
            referral_code=referrer))
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"created user {user.id} {user.email} roles={','.join(user.roles)} "
               f"invite={user.referral_code}")


@users_cli.command("api-key")
@click.argument("email")
@click.option("--name", default="cli", help="A label for the key.")
@click.option("--read-only", is_flag=True, help="A key that can only read.")
def create_api_key(email, name, read_only):
    """Print a new API key for EMAIL on its own line (shown once)."""
    user = db.session.scalar(db.select(User).where(User.email == services.normalize_email(email)))
    if user is None:
        raise click.ClickException(f"no user with email {email}")
    issued = services.create_api_key(user, name, "read" if read_only else "read write")
    db.session.commit()
    click.echo(issued.secret)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--queue", "queues", multiple=True, type=click.Choice(QUEUES),
              help="Listen on these queues only (default: all).")
@click.option("--beat/--no-beat", default=None,
              help="Enqueue periodic jobs (default: on, off with --burst).")
def worker_command(burst, queues, beat):
    """Run an RQ worker with the scheduler on every queue."""
    beat = (not burst) if beat is None else beat
    run_worker(burst=burst, queues=tuple(queues) or QUEUES, beat=beat)


def init_cli(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(worker_command)
