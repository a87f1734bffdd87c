"""What the publisher's statistics dashboard shows, read from the rollups (and the ledger for
what was paid out): totals, conversions and earnings by status, a daily series, the funnel and
one breakdown table; plus CSV for any table."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from cpa_network.csvfile import csv_text
from cpa_network.extensions import db
from payouts.models import AccountKind, LedgerAccount, LedgerTransaction, Posting
from publishers import reports
from publishers.reports import Audience, Period, StatsRow

GROUP_LABELS = {"day": _l("Day"), "hour": _l("Hour"), "offer": _l("Offer"), "link": _l("Link"),
                "country": _l("Country"), "publisher": _l("Publisher"),
                **{f"sub{i}": f"sub{i}" for i in range(1, 6)}}


@dataclass
class Dashboard:
    period: Period
    group_by: str
    rows: list[StatsRow]
    daily: list[StatsRow]
    by_currency: dict[str, StatsRow]
    overall: StatsRow
    paid: dict[str, int]

    @property
    def chart(self) -> dict:
        return reports.series(self.daily, self.period.first, self.period.last,
                              hourly=self.period.days == 1)

    @property
    def funnel(self) -> list[tuple[str, object, int]]:
        """(code, label, count): clicks -> conversions -> approved; paid is money (below)."""
        o = self.overall
        return [("clicks", _l("Valid clicks"), o.valid_clicks),
                ("conversions", _l("Conversions"), o.conversions + o.count("rejected")),
                ("approved", _l("Approved"), o.count("approved"))]

    def live(self) -> dict:
        """The numbers the page refreshes every few seconds (small, no table)."""
        o = self.overall
        return {
            "clicks": o.values["clicks"], "unique_clicks": o.values["unique_clicks"],
            "flagged_clicks": o.values["flagged_clicks"], "valid_clicks": o.valid_clicks,
            "conversions": {s: o.count(s) for s in reports.STATUSES},
            "earnings": {c: {s: r.earned(s) for s in reports.STATUSES}
                         for c, r in self.by_currency.items()},
            "paid": self.paid, "chart": self.chart,
        }


def postings_in(kind: AccountKind, period: Period, owner_id: int | None = None,
                credits_only: bool = False) -> dict[str, int]:
    """Per currency, the postings to accounts of `kind` (of one owner) in the period."""
    query = (select(Posting.currency, func.sum(Posting.amount))
             .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
             .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
             .where(LedgerAccount.kind == kind, LedgerTransaction.created_at >= period.start,
                    LedgerTransaction.created_at < period.end)
             .group_by(Posting.currency))
    if owner_id is not None:
        query = query.where(LedgerAccount.owner_id == owner_id)
    if credits_only:
        query = query.where(Posting.amount > 0)
    return {currency: int(total) for currency, total in db.session.execute(query)}


def paid_out(publisher_id: int, period: Period) -> dict[str, int]:
    """Money that reached the publisher (their `publisher_paid` account) in the period."""
    return postings_in(AccountKind.PUBLISHER_PAID, period, publisher_id, credits_only=True)


def publisher_dashboard(publisher_id: int, period: Period, group_by: str, tz,
                        with_table: bool = True) -> Dashboard:
    audience = Audience(publisher_id=publisher_id)
    daily = reports.report(audience, period.start, period.end,
                           "hour" if period.days == 1 else "day", tz)
    rows = daily if (group_by == "day" and period.days > 1) or not with_table else \
        reports.report(audience, period.start, period.end, group_by, tz)
    return Dashboard(period, group_by, rows, daily, reports.totals(daily),
                     reports.overall(daily), paid_out(publisher_id, period))


CSV_HEADER = ("key", "currency", "clicks", "unique_clicks", "flagged_clicks", "valid_clicks",
              "pending", "approved", "rejected", "awaiting_funds", "pending_earnings",
              "approved_earnings", "rejected_earnings", "cr", "epc")


def csv_rows(rows: list[StatsRow]) -> list[tuple]:
    """The table as CSV cells: counts, earnings in minor units, CR and EPC as plain numbers."""
    return [(r.key, r.currency, r.values["clicks"], r.values["unique_clicks"],
             r.values["flagged_clicks"], r.valid_clicks,
             *(r.count(s) for s in reports.STATUSES),
             *(r.earned(s) for s in ("pending", "approved", "rejected")),
             "" if r.cr is None else f"{r.cr:.4f}", "" if r.epc is None else f"{r.epc:.2f}")
            for r in rows]


def to_csv(header: tuple, rows: list[tuple]) -> str:
    """CSV text; cells a spreadsheet would run as formulas are neutralised (cpa_network.csvfile)."""
    return csv_text(rows, header)

