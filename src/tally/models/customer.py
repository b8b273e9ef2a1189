"""Customers and their contacts (customers.md)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from tally.domain.numbering import number_key
from tally.models.base import Base, ExactDecimal, IdType, JsonType, Timestamp


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    number: Mapped[str] = mapped_column(String(32))
    # Lowercased, trimmed `number`: the key of the case-insensitive uniqueness rule (C19.3).
    # Wider than `number` because lowercasing can lengthen text ("İ" becomes two characters).
    number_key: Mapped[str] = mapped_column(String(96))
    email: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(20))
    autopay: Mapped[bool] = mapped_column(Boolean, default=False)
    autopay_delay_days: Mapped[int | None] = mapped_column(Integer)
    payment_terms: Mapped[str | None] = mapped_column(String(255))
    attention_to: Mapped[str | None] = mapped_column(String(255))
    address1: Mapped[str | None] = mapped_column(String(255))
    address2: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str | None] = mapped_column(String(255))
    postal_code: Mapped[str | None] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))
    language: Mapped[str | None] = mapped_column(String(2))
    currency: Mapped[str | None] = mapped_column(String(3))
    chase: Mapped[bool] = mapped_column(Boolean, default=True)
    chasing_cadence: Mapped[int | None] = mapped_column(Integer)
    next_chase_step: Mapped[int | None] = mapped_column(Integer)
    phone: Mapped[str | None] = mapped_column(String(64))
    credit_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    credit_limit: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    owner: Mapped[int | None] = mapped_column(Integer)
    taxable: Mapped[bool] = mapped_column(Boolean, default=True)
    # Tax-rate ids in the order given; expanded to tax-rate objects on output (CU9).
    taxes: Mapped[list[str]] = mapped_column(JsonType, default=list)
    tax_id: Mapped[str | None] = mapped_column(String(64))
    avalara_entity_use_code: Mapped[str | None] = mapped_column(String(64))
    avalara_exemption_number: Mapped[str | None] = mapped_column(String(64))
    parent_customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL")
    )
    notes: Mapped[str | None] = mapped_column(Text)
    sign_up_page: Mapped[int | None] = mapped_column(Integer)
    ach_gateway: Mapped[int | None] = mapped_column(Integer)
    cc_gateway: Mapped[int | None] = mapped_column(Integer)
    disabled_payment_methods: Mapped[list[str]] = mapped_column(JsonType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # `metadata` is reserved by SQLAlchemy's declarative base, hence the underscore.
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JsonType, default=dict)
    # C18 capability token for the customer's statement URL.
    client_id: Mapped[str] = mapped_column(String(48), unique=True)
    created_at: Mapped[int] = mapped_column(Timestamp)
    updated_at: Mapped[int] = mapped_column(Timestamp)

    __table_args__ = (
        UniqueConstraint("account_id", "number_key"),
        Index(None, "account_id", "id"),
        Index(None, "account_id", "updated_at"),
        Index(None, "parent_customer_id"),
    )

    @validates("number")
    def _keep_number_key(self, _key: str, value: str) -> str:
        self.number_key = number_key(value)
        return value


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    department: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(255))
    primary: Mapped[bool] = mapped_column(Boolean, default=True)
    sms_enabled: Mapped[bool | None] = mapped_column(Boolean)
    send_new_invoices: Mapped[bool] = mapped_column(Boolean, default=False)
    address1: Mapped[str | None] = mapped_column(String(255))
    address2: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str | None] = mapped_column(String(255))
    postal_code: Mapped[str | None] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[int] = mapped_column(Timestamp)
    updated_at: Mapped[int] = mapped_column(Timestamp)

    __table_args__ = (Index(None, "account_id", "customer_id", "id"),)
