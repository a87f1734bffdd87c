"""Operator commands: `flask --app wsgi ledger check`."""

import click
from flask.cli import AppGroup

from payouts.invariants import check_ledger

ledger_cli = AppGroup("ledger", help="The double-entry ledger.")

MAX_LINES_PER_CHECK = 20


@ledger_cli.command("check")
def check_command():
    """Verify every ledger invariant; exit 0 only if all hold."""
    report = check_ledger()
    click.echo(f"ledger check: {report.transactions} transactions, {report.postings} postings, "
               f"{report.accounts} accounts")
    for check in report.checks:
        click.echo(f"  [{'ok' if check.ok else 'FAIL'}] {check.description}")
        for line in check.problems[:MAX_LINES_PER_CHECK]:
            click.echo(f"      {line}")
        if len(check.problems) > MAX_LINES_PER_CHECK:
            click.echo(f"      ... and {len(check.problems) - MAX_LINES_PER_CHECK} more")
    failed = sum(not check.ok for check in report.checks)
    if failed:
        click.echo(f"ledger check: FAILED ({failed} of {len(report.checks)} checks)", err=True)
        raise SystemExit(1)
    click.echo("ledger check: OK")
