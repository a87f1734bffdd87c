"""The advertiser's dashboard (offers, publishers, budget, caps, concentration, rising
publishers) and the operator's (network totals, revenue, tops, fraud queue, job queues)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from cpa_network.extensions import db
from cpa_network.jobs import QUEUES, get_queue
from offers.models import Offer
from offers.rules import period_start, usage_from_rollups
from offers.tracking_models import TrafficHourly
from payouts.escrow import escrow_balance
from payouts.models import AccountKind, LedgerAccount, LedgerTransaction, Posting
from publishers import conversion_inputs, reports
from publishers.reports import Audience, Period, StatsRow

CAP_ALERT = 0.9
PACE_DAYS = 7
TOP_SHARE = 0.2


@dataclass(frozen=True)
class CapUse:
    offer: Offer
    label: str
    used: int
    limit: int

    @property
    def share(self) -> float:
        return self.used / self.limit if self.limit else 0.0

    @property
    def alert(self) -> bool:
        return self.share >= CAP_ALERT


@dataclass(frozen=True)
class Budget:
    currency: str
    escrow: int
    daily_spend: int  # pending + approved payouts per day over the last PACE_DAYS days

    @property
    def days_left(self) -> float | None:
        return self.escrow / self.daily_spend if self.daily_spend > 0 else None


@dataclass(frozen=True)
class Pareto:
    publishers: int
    top_publishers: int
    top_share: float | None  # of conversions brought by the top 20 % of publishers


@dataclass
class AdvertiserDashboard:
    period: Period
    offers: list[StatsRow]
    publishers: list[StatsRow]
    by_currency: dict[str, StatsRow]
    budgets: list[Budget]
    caps: list[CapUse]
    pareto: Pareto
    rising: list[tuple[StatsRow, int]]  # (this period's row, conversions the period before)
    fraud: dict[int, int]  # offer id -> conversions rejected for fraud in the period


def cap_usage(offers: list[Offer], now: datetime) -> list[CapUse]:
    """Each cap's use in its current day or month; publisher caps show the busiest publisher."""
    t = TrafficHourly
    found = []
    for offer in offers:
        for cap in offer.caps:
            since = period_start(cap.period, now)
            if cap.scope == "offer":
                usage = usage_from_rollups(offer, None, since)
                used = usage.conversions if cap.metric == "conversions" else usage.payout
            else:
                column = t.conversions if cap.metric == "conversions" else t.payout
                used = db.session.scalar(
                    select(func.sum(column)).where(t.offer_id == offer.id, t.hour >= since)
                    .group_by(t.publisher_id).order_by(func.sum(column).desc()).limit(1)) or 0
            found.append(CapUse(offer, f"{cap.scope}/{cap.period}/{cap.metric}", int(used),
                                cap.cap_limit))
    return sorted(found, key=lambda c: -c.share)


def pareto(publishers: list[StatsRow]) -> Pareto:
    per_publisher: dict[int, int] = {}
    for row in publishers:
        per_publisher[row.key_id] = per_publisher.get(row.key_id, 0) + row.conversions
    counts = sorted(per_publisher.values(), reverse=True)
    top = max(1, round(len(counts) * TOP_SHARE)) if counts else 0
    total = sum(counts)
    return Pareto(len(counts), top, sum(counts[:top]) / total if total else None)


def advertiser_dashboard(advertiser_id: int, period: Period, tz, now: datetime):
    audience = Audience(advertiser_id=advertiser_id)
    offers_rows = reports.report(audience, period.start, period.end, "offer", tz)
    publisher_rows = reports.report(audience, period.start, period.end, "publisher", tz)
    length = period.end - period.start
    before = {r.key_id: r.conversions for r in
              reports.report(audience, period.start - length, period.start, "publisher", tz)}
    rising = sorted(((r, before.get(r.key_id, 0)) for r in publisher_rows
                     if r.conversions > before.get(r.key_id, 0)),
                    key=lambda pair: -(pair[0].conversions - pair[1]))[:5]
    offers = list(db.session.scalars(select(Offer).where(Offer.advertiser_id == advertiser_id)
                                     .order_by(Offer.name)))
    pace = reports.totals(reports.report(audience, now - timedelta(days=PACE_DAYS), now, "offer",
                                         tz))
    currencies = sorted({o.currency for o in offers})
    budgets = [Budget(c, escrow_balance(advertiser_id, c),
                      pace[c].earnings // PACE_DAYS if c in pace else 0) for c in currencies]
    return AdvertiserDashboard(period, offers_rows, publisher_rows, reports.totals(offers_rows),
                               budgets, cap_usage(offers, now), pareto(publisher_rows), rising,
                               conversion_inputs.fraud_by_offer(advertiser_id, period.start,
                                                                period.end))


@dataclass
class OperatorDashboard:
    period: Period
    by_currency: dict[str, StatsRow]
    overall: StatsRow
    revenue: dict[str, int]
    top_publishers: list[StatsRow]
    top_offers: list[StatsRow]
    fraud_queue: int
    queues: list[tuple[str, int, int]]  # (name, waiting, failed)


def revenue_in(period: Period) -> dict[str, int]:
    """Net postings to the network's revenue account in the period, per currency."""
    query = (select(Posting.currency, func.sum(Posting.amount))
             .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
             .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
             .where(LedgerAccount.kind == AccountKind.NETWORK_REVENUE,
                    LedgerTransaction.created_at >= period.start,
                    LedgerTransaction.created_at < period.end)
             .group_by(Posting.currency))
    return {currency: int(total) for currency, total in db.session.execute(query)}


def queue_health() -> list[tuple[str, int, int]]:
    found = []
    for name in QUEUES:
        try:
            queue = get_queue(name)
            found.append((name, queue.count, queue.failed_job_registry.count))
        except Exception:  # Redis away: the page still renders, the counts say unknown
            found.append((name, -1, -1))
    return found


def operator_dashboard(period: Period, tz) -> OperatorDashboard:
    network = Audience()
    offers = reports.report(network, period.start, period.end, "offer", tz)
    publishers = reports.report(network, period.start, period.end, "publisher", tz)
    by_conversions = sorted(publishers, key=lambda r: (-r.conversions, -r.values["clicks"]))
    return OperatorDashboard(period, reports.totals(offers), reports.overall(offers),
                             revenue_in(period), by_conversions[:10], offers[:10],
                             conversion_inputs.fraud_queue_size(), queue_health())
