"""Operator commands: `flask --app wsgi ledger check`, `flask --app wsgi payouts ...`."""

import click
from flask.cli import AppGroup

from cpa_network.errors import DomainError
from cpa_network.extensions import db
from payouts import automatic, reconcile
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


payouts_cli = AppGroup("payouts", help="Publisher payouts.")


@payouts_cli.command("reconcile")
def reconcile_command():
    """One reconciler pass now: settle or retry payouts left unfinished."""
    click.echo(f"reconciler: {reconcile.reconcile_payouts() or 'nothing to do'}")


@payouts_cli.command("automatic")
def automatic_command():
    """Request this week's automatic payouts now (as the hourly job does)."""
    click.echo(f"automatic payouts: {automatic.run_automatic_payouts() or 'nothing to do'}")


@payouts_cli.command("retry")
@click.argument("payout_id", type=int)
def retry_command(payout_id: int):
    """Retry a failed payout (as a new one) or queue an unfinished one again."""
    try:
        made = reconcile.retry_payout(payout_id)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"payout {made.id}: {made.status}, queued")
