"""Bulk review as a background job: the ticked or filter-matched undecided conversions, counted
and priced for the confirmation step, then approved or rejected in committed batches through
`offers.review.decide_many` (so the page, a job and the API decide the same way).

A retried or twice-run job decides each conversion once: a batch's decisions commit together
with the progress that counts them, the rerun starts after that batch, and a conversion decided
already is skipped by the status check under its row lock (the ledger key is fixed as well).
"""

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from cpa_network.accounts.models import User
from cpa_network.background.services import JobKind, start_job
from cpa_network.errors import ValidationFailed
from cpa_network.extensions import db
from offers import conversions, review
from offers.conversion_export import EXPORT_KIND
from offers.conversion_models import AWAITING_FUNDS, PENDING, Conversion

KIND = "bulk_review"
MAX_JOB_CONVERSIONS = 10_000  # one job; the filter page says to narrow it past this
UNDECIDED = (PENDING, AWAITING_FUNDS)


@dataclass
class BulkPlan:
    """What a bulk decision would touch: the ids, and payout + fee per currency."""

    ids: list[int] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    truncated: bool = False


def plan_bulk_review(advertiser: User, ids: list[int] | None = None,
                     f: review.ReviewFilter | None = None) -> BulkPlan:
    """The advertiser's undecided conversions among `ids`, or all matching the filter `f`."""
    query = select(Conversion.id).where(Conversion.advertiser_id == advertiser.id,
                                        Conversion.status.in_(UNDECIDED))
    if ids is not None:
        query = query.where(Conversion.id.in_(sorted(set(ids))[:MAX_JOB_CONVERSIONS]))
    elif f is not None:
        query = review._filtered(query, f).order_by(None)
    found = list(db.session.scalars(query.order_by(Conversion.id).limit(MAX_JOB_CONVERSIONS + 1)))
    plan = BulkPlan(ids=found[:MAX_JOB_CONVERSIONS], truncated=len(found) > MAX_JOB_CONVERSIONS)
    for chunk in _chunks(plan.ids, 1000):
        for currency, total in db.session.execute(
                select(Conversion.currency, func.sum(Conversion.payout + Conversion.fee))
                .where(Conversion.id.in_(chunk)).group_by(Conversion.currency)):
            plan.totals[currency] = plan.totals.get(currency, 0) + int(total)
    return plan


def start_bulk_review(advertiser: User, ids: list[int], decision: str, reason: str = ""):
    """Queue the job that decides `ids` (already planned); the caller commits."""
    if decision not in review.DECISIONS:
        raise ValidationFailed(fields={"decision": [_l("approve or reject")]})
    if decision == "reject" and not reason.strip():
        raise conversions.ReasonRequired(
            fields={"reason": [conversions.ReasonRequired.default_message]})
    return start_job(advertiser.id, KIND, {"ids": sorted(set(ids)), "decision": decision,
                                           "reason": reason.strip()[:500]})


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _count(job) -> int:
    return len(job.params["ids"])


def _run(job, start: int):
    advertiser = db.session.get(User, job.owner_id)
    size = current_app.config["BACKGROUND_BATCH_SIZE"]
    for chunk in _chunks(job.params["ids"][start:], size):
        outcome = review.decide_many(advertiser, chunk, job.params["decision"],
                                     job.params.get("reason", ""))
        skipped = dict(job.result.get("skipped", {}))
        for message in outcome.skipped.values():
            skipped[message] = skipped.get(message, 0) + 1
        job.result = {**job.result, "decided": job.result.get("decided", 0) + len(outcome.done),
                      "skipped": skipped}
        yield len(chunk)


def _summary(job) -> list[str]:
    decided = job.result.get("decided", 0)
    lines = [ngettext("%(num)d conversion approved.", "%(num)d conversions approved.", decided)
             if job.params["decision"] == "approve" else
             ngettext("%(num)d conversion rejected.", "%(num)d conversions rejected.", decided)]
    for message, count in sorted(job.result.get("skipped", {}).items()):
        # Messages are stored in English, as the services raised them; shown translated.
        lines.append(ngettext("%(num)d skipped: %(reason)s", "%(num)d skipped: %(reason)s",
                              count, reason=gettext(message)))
    return lines


BULK_KIND = JobKind(KIND, _l("Bulk review of conversions"), _count, _run, _summary)
JOB_KINDS = (BULK_KIND, EXPORT_KIND)
