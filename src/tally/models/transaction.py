"""Money movements (transactions_payments.md Part A): payments, charges, refunds and
adjustments, each optionally tied to one invoice. Amounts are minor units of `currency`."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tally.models.base import Base, IdType, JsonType, Timestamp


class Transaction(Base):
    __tablename__ = "transactions"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    # Credit notes and estimates arrive with their own issues.
    credit_note_id: Mapped[int | None] = mapped_column(BigInteger)
    estimate_id: Mapped[int | None] = mapped_column(BigInteger)
    # The payment whose split this is (TX10). Payments are voided, never deleted, so the
    # reference cannot dangle; no foreign key keeps the 0003 table as it was.
    payment_id: Mapped[int | None] = mapped_column(BigInteger)
    parent_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("transactions.id", ondelete="CASCADE")
    )
    date: Mapped[int] = mapped_column(Timestamp)
    type: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    gateway: Mapped[str | None] = mapped_column(String(64))
    gateway_id: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    # Minor units. Positive, except adjustments: negative credits the customer (TX5).
    amount: Mapped[int] = mapped_column(BigInteger)
    notes: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(String(255))
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JsonType, default=dict)
    # C18 capability token for the receipt URL.
    client_id: Mapped[str] = mapped_column(String(48), unique=True)
    created_at: Mapped[int] = mapped_column(Timestamp)
    updated_at: Mapped[int] = mapped_column(Timestamp)

    __table_args__ = (
        Index(None, "account_id", "id"),
        Index(None, "account_id", "customer_id"),
        Index(None, "invoice_id", "status"),
        Index(None, "parent_transaction_id"),
        Index(None, "payment_id"),
        # The credit ledger (credit_balances.md CB1) of one customer, in time order.
        Index(None, "customer_id", "currency", "date"),
        Index(None, "account_id", "updated_at"),
    )
