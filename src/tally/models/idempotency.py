"""Stored responses for Idempotency-Key requests (C14)."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tally.models.base import Base, IdType, Timestamp


class IdempotentRequest(Base):
    """One (API key, idempotency key) pair: claimed while running, then its response."""

    __tablename__ = "idempotent_requests"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    # SHA-256 of method, path and body: a different request under the same key is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # Milliseconds; a claim older than the lease without a response was abandoned.
    claimed_at_ms: Mapped[int] = mapped_column(BigInteger)
    # Random per claim, replaced on takeover: only the current claimant may store a response
    # (a fencing token), so a request that outlived its lease cannot also commit.
    claim_token: Mapped[str] = mapped_column(String(32))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_content_type: Mapped[str | None] = mapped_column(String(100))
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(Timestamp)

    __table_args__ = (
        UniqueConstraint("api_key_id", "key"),
        Index(None, "created_at"),
    )
