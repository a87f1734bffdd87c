"""The last whole-ledger check, kept so the operator's ledger page does not re-read the whole
ledger at every load (1.2 s at 300,000 transactions on the benchmark machine, and growing).

The nightly job and the operator's "Check now" store their report here (in Redis); the page
shows it with the time it was made. With none stored yet, or Redis unreachable, the page runs
the check itself.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from redis.exceptions import RedisError

from cpa_network.database import utcnow
from cpa_network.jobs import redis_connection
from payouts.invariants import CHECKS, CheckResult, LedgerReport, check_ledger

log = logging.getLogger(__name__)
KEY = "cpa:ledger_check:last"
MAX_PROBLEMS = 50  # per check; the page lists 20


@dataclass(frozen=True)
class CheckedReport:
    report: LedgerReport
    checked_at: datetime


def run_and_store() -> CheckedReport:
    """Check the whole ledger now and keep the report for the page."""
    checked = CheckedReport(check_ledger(), utcnow())
    report = checked.report
    body = {"checked_at": checked.checked_at.isoformat(), "transactions": report.transactions,
            "postings": report.postings, "accounts": report.accounts,
            "checks": [{"name": c.name, "problems": c.problems[:MAX_PROBLEMS]}
                       for c in report.checks]}
    try:
        redis_connection().set(KEY, json.dumps(body))
    except RedisError:
        log.warning("ledger check: the report could not be stored", exc_info=True)
    return checked


def last() -> CheckedReport | None:
    try:
        raw = redis_connection().get(KEY)
    except RedisError:
        return None
    if raw is None:
        return None
    body = json.loads(raw)
    descriptions = {name: description for name, description, _run in CHECKS}
    checks = [CheckResult(c["name"], descriptions.get(c["name"], c["name"]), c["problems"])
              for c in body["checks"]]
    return CheckedReport(LedgerReport(checks, body["transactions"], body["postings"],
                                      body["accounts"]),
                         datetime.fromisoformat(body["checked_at"]))


def current() -> CheckedReport:
    """The stored report, or a fresh one (then stored) if there is none."""
    return last() or run_and_store()
