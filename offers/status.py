"""The offer status state machine: every move is explicit; a forbidden one is a named error."""

from flask_babel import lazy_gettext as _l

from cpa_network.errors import DomainError

DRAFT = "draft"
PENDING = "pending_moderation"
ACTIVE = "active"
REJECTED = "rejected"
PAUSED = "paused"
ARCHIVED = "archived"

STATUSES = (DRAFT, PENDING, ACTIVE, REJECTED, PAUSED, ARCHIVED)
STATUS_LABELS = {
    DRAFT: _l("draft"), PENDING: _l("awaiting moderation"), ACTIVE: _l("active"),
    REJECTED: _l("rejected"), PAUSED: _l("paused"), ARCHIVED: _l("archived"),
}

# from -> allowed targets. Going ACTIVE from PENDING is the operator's approval; from PAUSED it
# is the advertiser's resume. Both must pass the escrow rule (offers.funding).
TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({PENDING, ARCHIVED}),
    PENDING: frozenset({ACTIVE, REJECTED, DRAFT, ARCHIVED}),
    REJECTED: frozenset({PENDING, ARCHIVED}),
    ACTIVE: frozenset({PAUSED, ARCHIVED}),
    PAUSED: frozenset({ACTIVE, ARCHIVED}),
    ARCHIVED: frozenset(),
}
# Statuses in which the advertiser may still edit the offer.
EDITABLE = frozenset({DRAFT, PENDING, REJECTED, ACTIVE, PAUSED})
# An edit that sends an approved offer's visitors to a site the operator has not seen puts it
# back in moderation (offers.services.update_offer): the one move made outside TRANSITIONS,
# because no one may ask for it, only an edit causes it.
APPROVED = frozenset({ACTIVE, PAUSED})
# Statuses whose fallback URL the operator has seen: a link of an offer back in moderation
# shows the 'unavailable' page, not the fallback the edit just set.
FALLBACK_APPROVED = frozenset({ACTIVE, PAUSED, ARCHIVED})


class ForbiddenTransition(DomainError):
    code = "forbidden_transition"
    http_status = 409
    default_message = _l("This offer cannot make that status change.")

    def __init__(self, current: str, target: str):
        super().__init__(_l("An offer that is %(current)s cannot become %(target)s.",
                            current=STATUS_LABELS.get(current, current),
                            target=STATUS_LABELS.get(target, target)))
        self.current, self.target = current, target


def check_transition(current: str, target: str) -> None:
    """Refuse a move the state machine does not allow."""
    if target not in TRANSITIONS.get(current, frozenset()):
        raise ForbiddenTransition(current, target)
