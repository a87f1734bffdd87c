"""Notifications on /api/v1: the key owner's, newest first, and marking them read."""

from flask import jsonify
from sqlalchemy import select

from cpa_network.api import api_user, bp
from cpa_network.api.openapi import document, register_schema
from cpa_network.api.pagination import LIST_QUERY, bool_arg, date_range, keyset_page, list_schema
from cpa_network.extensions import db
from cpa_network.notifications import services
from cpa_network.notifications.models import Notification

NOTIFICATION = register_schema("Notification", {
    "type": "object", "required": ["id", "kind", "message", "created_at", "read_at"],
    "properties": {"id": {"type": "integer"}, "kind": {"type": "string"},
                   "message": {"type": "string", "description": "In the key owner's language."},
                   "params": {"type": "object"},
                   "created_at": {"type": "string", "format": "date-time"},
                   "read_at": {"type": ["string", "null"], "format": "date-time"}}})


@bp.route("/notifications")
@document("Your notifications", tags=("notifications",),
          query={"unread": {"type": "boolean", "description": "Only unread ones."},
                 **LIST_QUERY},
          responses={200: ("A page of notifications, newest first.",
                           list_schema("notifications", NOTIFICATION,
                                       {"unread_count": {"type": "integer"}}))})
def list_notifications():
    user_id = api_user().id
    query = select(Notification).where(Notification.user_id == user_id)
    if bool_arg("unread"):
        query = query.where(Notification.read_at.is_(None))
    rows, cursor = keyset_page(date_range(query, Notification.created_at), Notification.id)
    return jsonify(notifications=[{
        "id": n.id, "kind": n.kind, "message": services.render_message(n), "params": n.params,
        "created_at": n.created_at.isoformat(),
        "read_at": n.read_at.isoformat() if n.read_at else None} for n in rows],
        next_cursor=cursor, unread_count=services.unread_count(user_id))


@bp.route("/notifications/read", methods=["POST"])
@document("Mark all your notifications read", tags=("notifications",),
          responses={200: ("Done.", {"type": "object", "required": ["unread_count"],
                                     "properties": {"unread_count": {"type": "integer"}}})})
def mark_notifications_read():
    user_id = api_user().id
    services.mark_all_read(user_id)
    db.session.commit()
    return jsonify(unread_count=services.unread_count(user_id))
