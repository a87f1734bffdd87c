"""`flask --app wsgi tracking flush|backlog`: move clicks from the Redis stream by hand."""

import click
from flask.cli import AppGroup

from offers import stream
from offers.tasks import drain_stream

tracking_cli = AppGroup("tracking", help="The click stream: flush it, see its backlog.")


@tracking_cli.command("flush")
def flush_command():
    """Store every click waiting in the Redis stream now (what the scheduled job does)."""
    read, stored = drain_stream(max_seconds=3600)
    click.echo(f"flushed {read} stream entries, {stored} new clicks stored")


@tracking_cli.command("backlog")
def backlog_command():
    """How many clicks wait in the stream."""
    click.echo(stream.backlog())
