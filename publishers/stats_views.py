"""Statistics pages: the publisher's dashboard (with a live JSON feed and CSV export), the
advertiser's and the operator's. Days are cut in the reader's time zone."""

from flask import Blueprint, Response, jsonify, render_template, request
from flask_login import current_user

from cpa_network.accounts.sessions import role_required
from cpa_network.database import utcnow
from cpa_network.errors import ValidationFailed
from cpa_network.replica import reads_replica
from publishers import dashboards, network_dashboards, ratings, reports

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


@bp.route("/stats/export.csv")
@role_required("publisher")
@reads_replica
def publisher_csv():
    board = _publisher_dashboard()
    body = dashboards.to_csv(dashboards.CSV_HEADER, dashboards.csv_rows(board.rows))
    return csv_response(body, f"stats-{board.group_by}-{board.period.first}-{board.period.last}")


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


@bp.route("/advertiser/stats/export.csv")
@role_required("advertiser")
@reads_replica
def advertiser_csv():
    """?table=offers|publishers: the dashboard's table as CSV (the advertiser's own rows)."""
    table = "publishers" if request.args.get("table") == "publishers" else "offers"
    tz = reports.zone(current_user.timezone)
    period = requested_period(tz)
    group = "offer" if table == "offers" else "publisher"
    rows = reports.report(reports.Audience(advertiser_id=current_user.id), period.start,
                          period.end, group, tz)
    body = dashboards.to_csv(dashboards.CSV_HEADER, dashboards.csv_rows(rows))
    return csv_response(body, f"{table}-{period.first}-{period.last}")


@bp.route("/admin/stats")
@role_required("admin")
@reads_replica
def operator():
    tz = reports.zone(current_user.timezone)
    board = network_dashboards.operator_dashboard(requested_period(tz), tz)
    return render_template("publishers/operator_stats.html", board=board,
                           periods=reports.PERIODS, statuses=reports.STATUSES)
