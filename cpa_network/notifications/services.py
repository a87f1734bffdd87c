"""Creating and reading notifications. Packages add kinds to MESSAGES as they need them."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from cpa_network.database import utcnow
from cpa_network.extensions import db
from cpa_network.notifications.models import Notification

MESSAGES = {
    "new_referral": _l("%(name)s signed up through your invite link and is now your referral."),
    "payout_paid": _l("Payout #%(id)s of %(amount)s was sent to your payout account."),
    "payout_failed": _l("Payout #%(id)s of %(amount)s failed (%(reason)s); the money is back in "
                        "your available balance."),
    "payout_reversed": _l("%(amount)s of payout #%(id)s came back from your payout account (the "
                          "transfer was reversed) and is in your available balance again."),
    "ledger_check_failed": _l("The ledger check of %(day)s found %(failed)s failing check(s): "
                              "%(checks)s. Open the Ledger page for details."),
}


def notify(user_id: int, kind: str, dedupe_key: str, **params) -> Notification:
    """Record a notification once per (user, dedupe_key): safe to call from a retried job."""
    existing = db.session.scalar(select(Notification).where(
        Notification.user_id == user_id, Notification.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    notification = Notification(user_id=user_id, kind=kind, params=params, dedupe_key=dedupe_key)
    db.session.add(notification)
    db.session.flush()
    return notification


def notify_many(kind: str, items: list[tuple[int, str, dict]]) -> None:
    """`notify` for many (user id, dedupe key, params) at once: two statements, not two each."""
    if not items:
        return
    keys = {(user_id, key) for user_id, key, _ in items}
    existing = set(db.session.execute(existing_keys(keys)).all())
    db.session.add_all(Notification(user_id=user_id, kind=kind, params=params, dedupe_key=key)
                       for user_id, key, params in items if (user_id, key) not in existing)
    db.session.flush()


def existing_keys(keys: set[tuple[int, str]]):
    """The (user id, dedupe key) pairs of `keys` already notified. The users are named too: the
    unique index leads with the user, and the keys alone scanned every notification."""
    return select(Notification.user_id, Notification.dedupe_key).where(
        Notification.user_id.in_({user_id for user_id, _ in keys}),
        Notification.dedupe_key.in_({key for _, key in keys}))


def render_message(notification: Notification) -> str:
    template = MESSAGES.get(notification.kind)
    if template is None:
        return notification.kind
    return str(template) % notification.params


def recent_for(user_id: int, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc()).limit(limit)))


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def mark_all_read(user_id: int) -> None:
    db.session.execute(update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)).values(read_at=utcnow()))
