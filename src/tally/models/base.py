"""Declarative base, naming convention and the column types every model shares."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Dialect,
    Integer,
    MetaData,
    Numeric,
    String,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeEngine

from tally.domain.coerce import decimal_text

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ExactDecimal(TypeDecorator[Decimal]):
    """Decimals that never pass through float.

    NUMERIC on PostgreSQL; on SQLite, whose NUMERIC affinity would store a binary float,
    the canonical decimal text.
    """

    impl = String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(38, 12, asdecimal=True))
        return dialect.type_descriptor(String(64))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value)  # also accepts ints
        if dialect.name == "postgresql":
            return value
        return decimal_text(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        # NUMERIC(38, 12) pads with zeros; keep the value, drop the padding.
        exact = value if isinstance(value, Decimal) else Decimal(str(value))
        return Decimal(decimal_text(exact))


# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JsonType = JSON().with_variant(JSONB(), "postgresql")
# Every timestamp is integer Unix seconds, as the API speaks them (C4.4).
Timestamp = BigInteger
# 64-bit ids on PostgreSQL; SQLite only auto-increments a column typed exactly INTEGER.
IdType = BigInteger().with_variant(Integer, "sqlite")
