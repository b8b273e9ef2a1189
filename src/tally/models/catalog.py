"""The account's price list and rates: catalog items, coupons and tax rates.

All three have user-chosen string ids and are archived rather than deleted, so an id can be
reused while documents keep what they copied. The public id is therefore not the primary
key: `pk` is, and only live (non-archived) rows must have distinct public ids.
"""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from tally.models.base import Base, ExactDecimal, IdType, JsonType, Timestamp


class CatalogItem(Base):
    __tablename__ = "items"

    pk: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    public_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str | None] = mapped_column(String(3))
    unit_cost: Mapped[Decimal] = mapped_column(ExactDecimal)
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str | None] = mapped_column(String(64))
    taxable: Mapped[bool] = mapped_column(Boolean, default=True)
    taxes: Mapped[list[str]] = mapped_column(JsonType, default=list)
    discountable: Mapped[bool] = mapped_column(Boolean, default=True)
    avalara_tax_code: Mapped[str | None] = mapped_column(String(64))
    avalara_location_code: Mapped[str | None] = mapped_column(String(64))
    gl_account: Mapped[str | None] = mapped_column(String(64))
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JsonType, default=dict)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(Timestamp)
    updated_at: Mapped[int] = mapped_column(Timestamp)


class Coupon(Base):
    __tablename__ = "coupons"

    pk: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    public_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str | None] = mapped_column(String(3))
    value: Mapped[Decimal] = mapped_column(ExactDecimal)
    is_percent: Mapped[bool] = mapped_column(Boolean, default=True)
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    expiration_date: Mapped[int | None] = mapped_column(Timestamp)
    max_redemptions: Mapped[int] = mapped_column(Integer, default=0)
    duration: Mapped[int] = mapped_column(Integer, default=0)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JsonType, default=dict)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(Timestamp)
    updated_at: Mapped[int] = mapped_column(Timestamp)


class TaxRate(Base):
    __tablename__ = "tax_rates"

    pk: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    public_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str | None] = mapped_column(String(3))
    value: Mapped[Decimal] = mapped_column(ExactDecimal)
    is_percent: Mapped[bool] = mapped_column(Boolean, default=True)
    inclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JsonType, default=dict)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(Timestamp)
    updated_at: Mapped[int] = mapped_column(Timestamp)


# Live public ids are unique per account; archived versions may repeat them (IT3, CT1).
for _model in (CatalogItem, Coupon, TaxRate):
    _table = cast(Table, _model.__table__)
    Index(
        f"uq_{_table.name}_account_id_public_id_live",
        _table.c.account_id,
        _table.c.public_id,
        unique=True,
        sqlite_where=text("archived = 0"),
        postgresql_where=text("NOT archived"),
    )
    Index(f"ix_{_table.name}_account_id_pk", _table.c.account_id, _table.c.pk)
