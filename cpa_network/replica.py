"""An optional read replica for the statistics pages and API (DATABASE_REPLICA_URL).

Views decorated with `reads_replica` send their plain SELECTs to the `replica` bind; writes,
flushes and SELECT ... FOR UPDATE stay on the primary, and so does everything else. With no
replica configured the decorator changes nothing. The replica may lag the primary by a moment:
only pages that show aggregates (which lag the click stream anyway) use it.
"""

import functools

import sqlalchemy as sa
from flask import Flask, g, has_app_context, request
from flask_sqlalchemy.session import Session

REPLICA = "replica"
FLAG = "cpa_read_replica"


def configure_replica(app: Flask) -> None:
    """Add the replica as a SQLAlchemy bind when DATABASE_REPLICA_URL is set (before init_app)."""
    url = app.config.get("DATABASE_REPLICA_URL")
    if url:
        binds = dict(app.config.get("SQLALCHEMY_BINDS") or {})
        binds[REPLICA] = url
        app.config["SQLALCHEMY_BINDS"] = binds


def reads_replica(view):
    """Run this view's reads on the replica (if there is one), for GET and HEAD only: a POST
    that writes (say, starting an export job) reads what it decides on from the primary."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if request.method in ("GET", "HEAD"):
            g.setdefault(FLAG, True)
        return view(*args, **kwargs)

    return wrapper


class RoutingSession(Session):
    """db.session: a replica-reading view's SELECTs go to the replica, the rest to the primary."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if (bind is None and not self._flushing and isinstance(clause, sa.Select)
                and clause._for_update_arg is None and has_app_context()
                and g.get(FLAG) and REPLICA in self._db.engines):
            return self._db.engines[REPLICA]
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
