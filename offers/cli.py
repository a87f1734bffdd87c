"""`flask --app wsgi tracking flush|backlog|partitions`: the click stream and the clicks table
by hand."""

import click
from flask.cli import AppGroup

from cpa_network.extensions import db
from offers import partitions, stream
from offers.tasks import drain_stream

tracking_cli = AppGroup("tracking", help="The click stream and the clicks table's partitions.")


@tracking_cli.command("flush")
def flush_command():
    """Store every click waiting in the Redis stream now (what the scheduled job does)."""
    read, stored = drain_stream(max_seconds=3600)
    click.echo(f"flushed {read} stream entries, {stored} new clicks stored")


@tracking_cli.command("backlog")
def backlog_command():
    """How many clicks wait in the stream."""
    click.echo(stream.backlog())


@tracking_cli.command("partitions")
def partitions_command():
    """Create the months ahead and drop the expired ones (what the daily job does)."""
    report = partitions.maintain_partitions()
    db.session.commit()
    for line in report.lines():
        click.echo(line)
