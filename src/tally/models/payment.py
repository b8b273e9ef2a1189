"""Payments (transactions_payments.md Part B): one amount received from a customer, split
across documents and the credit balance. Each split is stored as a Transaction that points
back here (`transactions.payment_id`). Amounts are minor units of `currency`."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tally.models.base import Base, IdType, JsonType, Timestamp


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # PY10: null while the payer is unknown.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    date: Mapped[int] = mapped_column(Timestamp)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    # PY8: amount minus the splits that count against it; kept in step under the row lock.
    balance: Mapped[int] = mapped_column(BigInteger)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    method: Mapped[str] = mapped_column(String(32))
    ach_sender_id: Mapped[str | None] = mapped_column(String(255))
    reference: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JsonType, default=dict)
    # C18 capability token for the receipt URL.
    client_id: Mapped[str] = mapped_column(String(48), unique=True)
    created_at: Mapped[int] = mapped_column(Timestamp)
    updated_at: Mapped[int] = mapped_column(Timestamp)

    __table_args__ = (
        Index(None, "account_id", "id"),
        Index(None, "account_id", "customer_id"),
        Index(None, "account_id", "date"),
        Index(None, "account_id", "updated_at"),
    )
