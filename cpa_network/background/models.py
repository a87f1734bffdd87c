"""A background job a person started and watches: its kind, progress and result."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cpa_network.database import UTCDateTime, utcnow
from cpa_network.extensions import db

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATUSES = (QUEUED, RUNNING, DONE, FAILED)


class BackgroundJob(db.Model):
    """One run of a registered job kind for its owner; progress commits with each batch."""

    __tablename__ = "background_jobs"
    __table_args__ = (
        Index("ix_background_jobs_owner_created", "owner_id", "created_at"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="known_status"),
        CheckConstraint("progress_done >= 0", name="progress_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default=QUEUED)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None] = mapped_column()
    # What the kind reports: counts, skip reasons, bytes written so far (exports).
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    # A file under EXPORT_DIR, relative to it; served only to the owner.
    file_name: Mapped[str | None] = mapped_column(String(200))
    download_name: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def finished(self) -> bool:
        return self.status in (DONE, FAILED)

    @property
    def percent(self) -> int:
        if self.status == DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)
