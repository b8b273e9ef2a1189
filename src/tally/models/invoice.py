"""Invoices, their line items, and the discounts, taxes and shipping applied to them.

Money columns hold integer minor units of the invoice currency (C12); quantities and unit
costs are exact decimals, stored unrounded.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from tally.domain.numbering import number_key
from tally.models.base import Base, ExactDecimal, IdType, JsonType, Timestamp


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(255))
    number: Mapped[str] = mapped_column(String(32))
    number_key: Mapped[str] = mapped_column(String(96))
    currency: Mapped[str] = mapped_column(String(3))
    autopay: Mapped[bool] = mapped_column(Boolean, default=False)
    payment_terms: Mapped[str | None] = mapped_column(String(255))
    date: Mapped[int] = mapped_column(Timestamp)
    due_date: Mapped[int | None] = mapped_column(Timestamp)
    purchase_order: Mapped[str | None] = mapped_column(String(32))
    draft: Mapped[bool] = mapped_column(Boolean, default=False)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    paid: Mapped[bool] = mapped_column(Boolean, default=False)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    sent: Mapped[bool] = mapped_column(Boolean, default=False)
    viewed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set while a pending transaction exists (status S5); payments arrive with issue 4.
    pending: Mapped[bool] = mapped_column(Boolean, default=False)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_payment_attempt: Mapped[int | None] = mapped_column(Timestamp)
    subscription_id: Mapped[int | None] = mapped_column(BigInteger)
    notes: Mapped[str | None] = mapped_column(Text)
    # Minor units.
    subtotal: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_credited: Mapped[int] = mapped_column(BigInteger, default=0)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    ship_to: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    chase: Mapped[bool] = mapped_column(Boolean, default=False)
    next_chase_on: Mapped[int | None] = mapped_column(Timestamp)
    needs_attention: Mapped[bool] = mapped_column(Boolean, default=False)
    late_fees: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_payment_methods: Mapped[list[str]] = mapped_column(JsonType, default=list)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JsonType, default=dict)
    # C18 capability token for the customer-facing URLs.
    client_id: Mapped[str] = mapped_column(String(48), unique=True)
    date_paid: Mapped[int | None] = mapped_column(Timestamp)
    date_voided: Mapped[int | None] = mapped_column(Timestamp)
    last_sent: Mapped[int | None] = mapped_column(Timestamp)
    # Set by the mark_past_due job once it has announced that the due date passed (S8 is
    # time-driven, so no write records that change); cleared when the invoice stops being
    # past due, so a later lapse is announced again.
    past_due_notified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[int] = mapped_column(Timestamp)
    updated_at: Mapped[int] = mapped_column(Timestamp)

    __table_args__ = (
        UniqueConstraint("account_id", "number_key"),
        Index(None, "account_id", "id"),
        Index(None, "account_id", "customer_id", "id"),
        Index(None, "account_id", "date"),
        Index(None, "account_id", "updated_at"),
        Index(None, "account_id", "due_date"),
    )

    @validates("number")
    def _keep_number_key(self, _key: str, value: str) -> str:
        self.number_key = number_key(value)
        return value


class LineItem(Base):
    __tablename__ = "line_items"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    catalog_item: Mapped[str | None] = mapped_column(String(64))
    type: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal)
    unit_cost: Mapped[Decimal] = mapped_column(ExactDecimal)
    # Minor units, after any inclusive tax carve-out (R1, R4).
    amount: Mapped[int] = mapped_column(BigInteger, default=0)
    discountable: Mapped[bool] = mapped_column(Boolean, default=True)
    taxable: Mapped[bool] = mapped_column(Boolean, default=True)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JsonType, default=dict)
    created_at: Mapped[int] = mapped_column(Timestamp)
    updated_at: Mapped[int] = mapped_column(Timestamp)

    __table_args__ = (Index(None, "invoice_id", "position"),)


class AppliedRate(Base):
    """A discount, tax or shipping charge on an invoice or on one of its lines.

    `rate` is a copy of the coupon or tax-rate object as it was when applied, so archiving
    or re-creating the rate never changes an existing document (CT2); null for a custom
    amount, which `custom_amount` then holds.
    """

    __tablename__ = "applied_rates"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    line_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("line_items.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))  # discount, tax, shipping
    position: Mapped[int] = mapped_column(Integer)
    rate_id: Mapped[str | None] = mapped_column(String(64))
    rate: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    custom_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)  # minor units
    expires: Mapped[int | None] = mapped_column(Timestamp)
    updated_at: Mapped[int] = mapped_column(Timestamp)

    __table_args__ = (Index(None, "invoice_id", "line_item_id", "kind", "position"),)
