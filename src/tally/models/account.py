"""Accounts (tenants), their API keys and their number sequences."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tally.models.base import Base, IdType, JsonType, Timestamp


class Account(Base):
    """A company using the server. Settings mirror C21; they are configured out of band."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    username: Mapped[str] = mapped_column(String(64), unique=True)
    identifier: Mapped[str] = mapped_column(String(24), unique=True)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    country: Mapped[str] = mapped_column(String(2), default="US")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    payment_terms: Mapped[str | None] = mapped_column(String(255))
    default_customer_type: Mapped[str] = mapped_column(String(20), default="company")
    default_collection_mode: Mapped[str] = mapped_column(String(20), default="manual")
    autopay_supported: Mapped[bool] = mapped_column(Boolean, default=True)
    autopay_delay_days: Mapped[int] = mapped_column(Integer, default=0)
    chase_new_invoices: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_apply_credits: Mapped[bool] = mapped_column(Boolean, default=False)
    transactions_inherit_invoice_metadata: Mapped[bool] = mapped_column(Boolean, default=False)
    bcc: Mapped[str | None] = mapped_column(String(255))
    email_sending: Mapped[str] = mapped_column(String(10), default="outbox")
    payment_gateway: Mapped[str] = mapped_column(String(32), default="test")
    payment_retry_schedule: Mapped[list[int]] = mapped_column(JsonType, default=lambda: [3, 5, 7])
    subscription_draft_invoices: Mapped[bool] = mapped_column(Boolean, default=False)
    after_subscription_nonpayment: Mapped[str] = mapped_column(String(32), default="do_nothing")
    # C19 templates, keyed by document kind; missing kinds use the defaults.
    number_templates: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[int] = mapped_column(Timestamp)


class ApiKey(Base):
    """An API key, stored as its SHA-256 digest (C2.8); the plaintext is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255), default="")
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    # Scrubbed form (C2.6) so operators can tell keys apart without the secret.
    hint: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[int] = mapped_column(Timestamp)
    revoked_at: Mapped[int | None] = mapped_column(Timestamp)

    __table_args__ = (Index(None, "account_id"),)


class Sequence(Base):
    """The next value of one account's number sequence for one document kind (C19)."""

    __tablename__ = "sequences"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger, default=1)
