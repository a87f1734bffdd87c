"""`flask --app wsgi ratings recompute`: rewrite the rating snapshots now."""

import click
from flask.cli import AppGroup

from cpa_network.extensions import db
from publishers.rating_jobs import recompute_ratings

ratings_cli = AppGroup("ratings", help="Publisher and offer ratings.")


@ratings_cli.command("recompute")
def recompute_command():
    """Recompute every rating from the hourly rollups (the beat does it every 5 minutes)."""
    try:
        changed = recompute_ratings()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    click.echo(f"ratings recomputed: {changed} snapshot rows written or removed")
