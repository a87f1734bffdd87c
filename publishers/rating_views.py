"""Rating pages: leaderboards (network, category, offer; country and period filters), one
publisher's score with its parts, offer ratings for publishers, and inviting from the board."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from cpa_network.accounts.models import User
from cpa_network.accounts.sessions import role_required
from cpa_network.database import utcnow
from cpa_network.errors import DomainError, NotFound
from cpa_network.extensions import db
from cpa_network.security import safe_local_url
from offers.models import CATEGORIES
from publishers import leaderboards, offer_ratings, rating_history, ratings
from publishers.forms import InviteFromBoardForm
from publishers.rating_formula import WEIGHTS

bp = Blueprint("ratings", __name__, url_prefix="/ratings")


def _filters(**extra) -> leaderboards.Filters:
    args = request.args
    try:
        return leaderboards.filters_of(args.get("category", ""), args.get("country", ""),
                                       args.get("days", 90), **extra)
    except DomainError:
        return leaderboards.Filters()


def _invite_form() -> InviteFromBoardForm | None:
    if not current_user.is_advertiser:
        return None
    form = InviteFromBoardForm()
    form.offer_id.choices = [(o.id, o.name) for o in leaderboards.private_offers(current_user)]
    return form if form.offer_id.choices else None


@bp.route("")
@login_required
def leaderboard():
    filters = _filters()
    board = leaderboards.board(filters)
    return render_template("publishers/leaderboard.html", board=board, filters=filters,
                           categories=CATEGORIES, windows=leaderboards.WINDOWS,
                           invite_form=_invite_form(), offer=None)


@bp.route("/offers/<int:offer_id>")
@role_required("advertiser")
def offer_leaderboard(offer_id: int):
    offer, board = leaderboards.offer_board(current_user, offer_id, _filters())
    return render_template("publishers/leaderboard.html", board=board, filters=board.filters,
                           categories=CATEGORIES, windows=leaderboards.WINDOWS,
                           invite_form=_invite_form(), offer=offer)


@bp.route("/invite", methods=["POST"])
@role_required("advertiser")
def invite():
    form = _invite_form()
    if form is not None and form.validate_on_submit():
        try:
            leaderboards.invite(current_user, form.offer_id.data, int(form.publisher_id.data))
        except (DomainError, ValueError) as error:
            flash(getattr(error, "message", _("Could not invite.")), "danger")
        else:
            db.session.commit()
            flash(_("Invited: the publisher can now see and promote this offer."), "success")
    else:
        flash(_("Choose one of your private offers."), "danger")
    return redirect(safe_local_url(request.form.get("back"), url_for("ratings.leaderboard")))


@bp.route("/mine")
@role_required("publisher")
def mine():
    return redirect(url_for("ratings.publisher", publisher_id=current_user.id))


@bp.route("/publishers/<int:publisher_id>")
@login_required
def publisher(publisher_id: int):
    """Ratings are public to signed-in users by design (advertisers pick performers)."""
    person = db.session.get(User, publisher_id)
    if person is None or not person.is_publisher:
        raise NotFound(_("No such publisher."))
    snapshot = ratings.publisher_rating(publisher_id)
    scopes = ratings.scopes_of(publisher_id)
    points = rating_history.trend_of(publisher_id, utcnow().date())
    return render_template("publishers/rating.html", person=person, snapshot=snapshot,
                           points=points, trend_chart=rating_history.chart_of(points),
                           scopes=scopes, categories=CATEGORIES, weights=WEIGHTS,
                           computed_at=ratings.last_recomputed_at(),
                           invite_form=_invite_form())


@bp.route("/offers")
@role_required("publisher")
def offers():
    rows = offer_ratings.visible_offer_ratings(current_user, request.args.get("sort", "epc"))
    return render_template("publishers/offer_ratings.html", rows=rows,
                           sorts=offer_ratings.SORTS, sort=request.args.get("sort", "epc"),
                           computed_at=ratings.last_recomputed_at())
