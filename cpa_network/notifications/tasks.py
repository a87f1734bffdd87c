"""Notification jobs: take ids, re-read state, safe to run twice."""

from cpa_network.extensions import db
from cpa_network.jobs import task
from cpa_network.notifications.services import notify


@task
def notify_upline_of_signup(user_id: int) -> None:
    """Tell the upline that someone joined through their invite link."""
    from cpa_network.accounts.models import User

    user = db.session.get(User, user_id)
    if user is None or user.referred_by_id is None:
        return
    notify(user.referred_by_id, "new_referral", f"new_referral:{user.id}",
           name=user.display_name)
