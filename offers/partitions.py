"""Monthly partitions of `clicks` on PostgreSQL: create the months ahead, drop the expired ones.

Raw clicks are kept CLICK_RETENTION_MONTHS (0: forever); the hourly rollups (traffic_hourly)
and conversions (which copy what they need from their click) are kept forever. A month is
dropped only when it ended before the cutoff, and the cutoff is never later than the longest
attribution window of any offer, so a click that can still convert is never dropped.

A DEFAULT partition catches a click no monthly partition covers (a clock far off, a month not
created yet), so an insert never fails. PostgreSQL refuses to attach a month while the default
holds rows of that month, so creating one moves those rows in the same transaction, with the
default locked so no flush adds more in between. Creating CLICK_PARTITIONS_AHEAD months ahead
keeps the default empty in practice. SQLite keeps one plain table: there this does nothing.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, text

from cpa_network.database import is_postgres, utcnow
from cpa_network.extensions import db
from offers.models import Offer

PARENT = "clicks"
DEFAULT = "clicks_default"
MONTH_RE = re.compile(r"^clicks_y(\d{4})m(\d{2})$")
# pg_advisory_xact_lock key: two runs (the job on two nodes, the CLI) never interleave.
LOCK_KEY = 0x636C6B70


@dataclass
class PartitionReport:
    """What one maintenance run did."""

    supported: bool = True
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    moved_from_default: int = 0
    expired_in_default: int = 0
    cutoff: datetime | None = None  # clicks before this are expired (None: kept forever)

    def lines(self) -> list[str]:
        if not self.supported:
            return ["clicks is a plain table on this database: nothing to do"]
        return [f"created: {', '.join(self.created) or 'none'}",
                f"dropped: {', '.join(self.dropped) or 'none'}",
                f"rows moved out of {DEFAULT}: {self.moved_from_default}",
                f"expired rows deleted from {DEFAULT}: {self.expired_in_default}",
                f"retention cutoff: {self.cutoff.isoformat() if self.cutoff else 'none'}"]


def month_start(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return datetime(at.year, at.month, 1, tzinfo=UTC)


def add_months(month: datetime, months: int) -> datetime:
    index = month.year * 12 + month.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def partition_name(month: datetime) -> str:
    return f"clicks_y{month.year:04d}m{month.month:02d}"


def timestamp_literal(at: datetime) -> str:
    """A timestamptz literal for DDL (which takes no bind parameters) and for a bound a plan
    must see as a constant (offers.tracking); built from integers."""
    return f"'{at.strftime('%Y-%m-%d %H:%M:%S')}+00'"


def monthly_partitions() -> dict[str, datetime]:
    """The monthly partitions that exist now, by name, with the month each covers."""
    names = db.session.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent "
        "WHERE p.relname = :parent AND p.relnamespace = current_schema()::regnamespace"),
        {"parent": PARENT}).scalars()
    found = {}
    for name in names:
        match = MONTH_RE.match(name)
        if match:
            found[name] = datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)
    return found


def retention_cutoff(now: datetime) -> datetime | None:
    """Clicks before this may go: whole months past retention, and past every offer's window."""
    months = current_app.config["CLICK_RETENTION_MONTHS"]
    if months <= 0:
        return None
    cutoff = add_months(month_start(now), -months)
    longest_days = db.session.scalar(select(func.max(Offer.attribution_window_days))) or 0
    return min(cutoff, month_start(now - timedelta(days=longest_days)))


def create_month(month: datetime) -> int:
    """Create and attach one month's partition; returns the rows moved out of the default."""
    name, start, end = (partition_name(month), timestamp_literal(month),
                         timestamp_literal(add_months(month, 1)))
    db.session.execute(text(f"LOCK TABLE {DEFAULT} IN ACCESS EXCLUSIVE MODE"))
    db.session.execute(text(
        f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    # Names are constants or built from integers (partition_name); times are parameters.
    moved = db.session.execute(text(
        f"WITH moved AS (DELETE FROM {DEFAULT} WHERE clicked_at >= :start "  # noqa: S608  # nosec B608 # table names: constants and partition_name (integers)
        f"AND clicked_at < :end RETURNING *) INSERT INTO {name} SELECT * FROM moved"),
        {"start": month, "end": add_months(month, 1)}).rowcount
    db.session.execute(text(
        f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ({start}) TO ({end})"))
    return max(moved, 0)


def maintain_partitions(now: datetime | None = None) -> PartitionReport:
    """Create the current and CLICK_PARTITIONS_AHEAD next months; drop months past retention.

    Drops come first: DROP takes the parent's lock before the default's, as a flush does, so
    the two never wait on each other in opposite order. Safe to run twice (the second run finds
    nothing to do) and from several nodes at once (an advisory lock serialises them).
    """
    if not is_postgres():
        return PartitionReport(supported=False)
    now = now or utcnow()
    report = PartitionReport(cutoff=retention_cutoff(now))
    db.session.execute(text("SET LOCAL lock_timeout = '30s'"))
    db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    existing = monthly_partitions()
    if report.cutoff is not None:
        for name, month in sorted(existing.items(), key=lambda item: item[1]):
            if add_months(month, 1) <= report.cutoff:
                db.session.execute(text(f"DROP TABLE {name}"))
                report.dropped.append(name)
    first = month_start(now)
    for offset in range(current_app.config["CLICK_PARTITIONS_AHEAD"] + 1):
        month = add_months(first, offset)
        if partition_name(month) not in existing:
            report.moved_from_default += create_month(month)
            report.created.append(partition_name(month))
    if report.cutoff is not None:
        report.expired_in_default = max(db.session.execute(text(
            f"DELETE FROM {DEFAULT} WHERE clicked_at < :cutoff"),  # noqa: S608  # nosec B608 # a constant table name; the time is a parameter
            {"cutoff": report.cutoff}).rowcount, 0)
    db.session.flush()
    return report
