"""Authorization cases for the ratings and statistics routes (see test_authorization_matrix)."""

from tests.offers.helpers import make_offer

PUBLIC_ROUTES = {
    "ratings.publisher": "publisher ratings are shown to every signed-in user by design: "
                         "advertisers pick performers from them",
    "publishers_api.publisher_rating": "the same rating as `ratings.publisher`, over the API",
}


def _offer_board(owner):
    offer = make_offer(owner, live=False)
    return f"/ratings/offers/{offer.id}", "GET", {}, lambda: True


def cases(case):
    return [case("ratings.offer_leaderboard", ("advertiser",), ("publisher",), _offer_board)]
