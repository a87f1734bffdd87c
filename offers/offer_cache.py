"""The offer a postback or pixel pays by, kept loaded across requests and checked every time.

Loading an offer with its goals and caps through the ORM costs about 1 ms of CPU per
conversion. On PostgreSQL every UPDATE of a row gives it a new `xmin`, and a change to a goal or
a cap touches its offer's row (migration 0019), so the offer row's `xmin` is a version of the
whole offer: each conversion reads it (one short query, in the conversion's own transaction) and
loads the offer again only when it moved. A change committed before that read is always seen.

The cached objects are detached copies, read and never changed: the one writer of offers in
the conversion path (offers.awaiting) locks and loads its own row. SQLite has no xmin: there
the offer is loaded every time.
"""

from sqlalchemy import bindparam, literal_column, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.util import identity_key

from cpa_network.extensions import db
from cpa_network.fastsql import Statement
from offers.models import Offer

MAX_CACHED = 10_000


def version_of(offer_id):
    """The version of the offer `offer_id` (a parameter or a column) names, as a scalar
    subquery: its row's xmin as text, NULL if there is no such offer. PostgreSQL only."""
    return (select(literal_column("offers.xmin::text")).select_from(Offer.__table__)
            .where(Offer.__table__.c.id == offer_id).scalar_subquery())


VERSION = Statement(select(version_of(bindparam("offer_id"))))

_cache: dict[tuple, tuple[str, Offer]] = {}  # (engine, offer id) -> (xmin, offer)


def load(offer_id: int) -> Offer | None:
    """The offer with its goals and caps, in one query, in the session."""
    return db.session.get(Offer, offer_id, options=(joinedload(Offer.goals),
                                                    joinedload(Offer.caps)))


def offer_for_conversion(offer_id: int, version: str | None = None) -> Offer | None:
    """The offer as it is now, with its goals and caps (read-only). `version`: its row's xmin,
    if the caller read it in this transaction (a postback does, with the click)."""
    if db.engine.dialect.name != "postgresql":
        return load(offer_id)
    if version is None:
        version = VERSION.scalar({"offer_id": offer_id})
    if version is None:
        return None
    key = (db.engine, offer_id)  # a process may serve more than one database (the tests do)
    cached = _cache.get(key)
    if cached is not None and cached[0] == version:
        return cached[1]
    if db.session.identity_map.get(identity_key(Offer, offer_id)) is not None:
        return load(offer_id)  # the caller's own object: not ours to detach
    offer = load(offer_id)
    if offer is None:
        return None
    for obj in (*offer.goals, *offer.caps, offer):
        db.session.expunge(obj)
    if len(_cache) >= MAX_CACHED:
        _cache.clear()
    _cache[key] = (version, offer)
    return offer
