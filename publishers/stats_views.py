"""Statistics pages: the publisher's dashboard (with a live JSON feed and CSV export), the
advertiser's and the operator's. Days are cut in the reader's time zone."""

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cpa_network.accounts.sessions import role_required
from cpa_network.background import views as jobs
from cpa_network.database import utcnow
from cpa_network.errors import ValidationFailed
from cpa_network.extensions import db
from cpa_network.replica import reads_replica
from publishers import dashboards, exports, network_dashboards, ratings, reports

bp = Blueprint("stats", __name__)
LIVE_POLL_MS = 5000


def requested_period(tz) -> reports.Period:
    """?period=today|7d|30d|90d, or ?from=&to= (local dates); bad dates fall back to 7 days."""
    args = request.args
    if args.get("from") and args.get("to"):
        try:
            return reports.custom_period(args["from"], args["to"], tz)
        except ValidationFailed:
            pass
    return reports.period_of(args.get("period", "7d"), tz, utcnow())


@bp.app_context_processor
def period_helpers() -> dict:
    """`period_args(period)`: the query arguments that name a period in a link."""
    def period_args(period: reports.Period) -> dict:
        if period.code == "custom":
            return {"from": period.first.isoformat(), "to": period.last.isoformat()}
        return {"period": period.code}
    return {"period_args": period_args}


def csv_response(body: str, name: str) -> Response:
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _publisher_dashboard(with_table: bool = True):
    tz = reports.zone(current_user.timezone)
    group = request.args.get("group_by", "offer")
    if group not in reports.GROUPS:
        group = "offer"
    return dashboards.publisher_dashboard(current_user.id, requested_period(tz), group, tz,
                                          with_table=with_table)


@bp.route("/stats")
@role_required("publisher")
@reads_replica
def publisher():
    board = _publisher_dashboard()
    return render_template("publishers/stats.html", board=board, groups=reports.GROUPS,
                           periods=reports.PERIODS, labels=dashboards.GROUP_LABELS,
                           poll_ms=LIVE_POLL_MS, statuses=reports.STATUSES)


@bp.route("/stats/live.json")
@role_required("publisher")
@reads_replica
def publisher_live():
    """The dashboard's numbers, polled by static/js/stats.js every few seconds."""
    response = jsonify(_publisher_dashboard(with_table=False).live())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/stats/export.csv", methods=["GET", "POST"])
@role_required("publisher")
@reads_replica
def publisher_csv():
    """The table as CSV: at once for a short period, else through a job with progress."""
    tz = reports.zone(current_user.timezone)
    group = request.args.get("group_by", "offer")
    group = group if group in reports.GROUPS else "offer"
    period = requested_period(tz)
    return _export(exports.PUBLISHER_KIND, period, group, tz,
                   f"stats-{group}-{period.first}-{period.last}", url_for("stats.publisher"))


def _export(kind: str, period: reports.Period, group: str, tz, name: str, back: str) -> Response:
    if exports.streams_directly(period) and request.args.get("background") != "1":
        return csv_response(exports.export_now(kind, current_user.id, period, group, tz), name)
    if not jobs.start_confirmed():
        return jobs.start_page(_("the statistics CSV"), back)
    job = exports.start_stats_export(kind, current_user, period, group, name)
    db.session.commit()
    return redirect(url_for("jobs.detail", job_id=job.id), 303)


@bp.route("/advertiser/stats")
@role_required("advertiser")
@reads_replica
def advertiser():
    tz = reports.zone(current_user.timezone)
    board = network_dashboards.advertiser_dashboard(current_user.id, requested_period(tz), tz,
                                                    utcnow())
    return render_template("publishers/advertiser_stats.html", board=board,
                           periods=reports.PERIODS, statuses=reports.STATUSES,
                           ratings=ratings.publisher_ratings([r.key_id for r in
                                                              board.publishers]))


@bp.route("/advertiser/stats/export.csv", methods=["GET", "POST"])
@role_required("advertiser")
@reads_replica
def advertiser_csv():
    """?table=offers|publishers: the dashboard's table as CSV (the advertiser's own rows)."""
    table = "publishers" if request.args.get("table") == "publishers" else "offers"
    tz = reports.zone(current_user.timezone)
    period = requested_period(tz)
    group = "offer" if table == "offers" else "publisher"
    return _export(exports.ADVERTISER_KIND, period, group, tz,
                   f"{table}-{period.first}-{period.last}", url_for("stats.advertiser"))


@bp.route("/admin/stats")
@role_required("admin")
@reads_replica
def operator():
    tz = reports.zone(current_user.timezone)
    board = network_dashboards.operator_dashboard(requested_period(tz), tz)
    return render_template("publishers/operator_stats.html", board=board,
                           periods=reports.PERIODS, statuses=reports.STATUSES)
