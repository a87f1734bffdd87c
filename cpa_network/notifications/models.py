"""A notification row: a kind plus parameters, rendered in the reader's language."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cpa_network.database import UTCDateTime, utcnow
from cpa_network.extensions import db


class Notification(db.Model):
    __tablename__ = "notifications"
    # A job that runs twice must not notify twice: the source event is the dedupe key.
    __table_args__ = (UniqueConstraint("user_id", "dedupe_key", name="one_per_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
