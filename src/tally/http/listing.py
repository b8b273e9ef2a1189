"""List endpoints: pagination (C7), sorting (C8), filters (C9) and expand (C10)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Numeric,
    Select,
    and_,
    cast,
    false,
    func,
    not_,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from starlette.requests import Request

from tally.domain.coerce import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    fits_int,
    parse_bool,
    parse_decimal,
    parse_int,
    parse_timestamp,
    storable_decimal,
)
from tally.domain.errors import InvalidRequest
from tally.domain.metadata import FILTERABLE_KEY
from tally.domain.money import ZERO_DECIMAL
from tally.domain.pagination import Page, clamp_page, clamp_per_page
from tally.http.forms import parse_pairs, reject_nul

FieldKind = Literal["str", "int", "bool", "decimal", "timestamp", "lower"]


@dataclass(frozen=True)
class FilterField:
    """A filterable (and therefore sortable) column and how to read its filter value."""

    column: InstrumentedAttribute[Any]
    kind: FieldKind = "str"
    choices: frozenset[str] | None = None


@dataclass
class ListQuery:
    page: Page
    pairs: list[tuple[str, str]]
    params: dict[str, Any]
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)

    def param(self, name: str) -> Any:
        return self.params.get(name)

    @property
    def filters(self) -> dict[str, Any]:
        raw = self.params.get("filter")
        return raw if isinstance(raw, dict) else {}

    @property
    def metadata(self) -> dict[str, str]:
        raw = self.params.get("metadata")
        if not isinstance(raw, dict):
            return {}
        return {k: v for k, v in raw.items() if isinstance(v, str) and FILTERABLE_KEY.match(k)}

    def timestamp_param(self, name: str) -> int | None:
        """C9.8/C9.9: values <= 0 or non-numeric are ignored."""
        value = parse_timestamp(self.params.get(name))
        return value if value is not None and value > 0 else None


def read_list_query(request: Request) -> ListQuery:
    pairs = list(request.query_params.multi_items())
    params = reject_nul(parse_pairs(pairs))
    page = Page(clamp_page(params.get("page")), clamp_per_page(params.get("per_page")))
    return ListQuery(page=page, pairs=pairs, params=params, sort=parse_sort(params.get("sort")))


def parse_sort(raw: object) -> list[tuple[str, bool]]:
    """C8: `date desc,number asc`; entries without a valid direction are dropped."""
    if not isinstance(raw, str):
        return []
    result: list[tuple[str, bool]] = []
    for entry in raw.split(","):
        words = entry.split()
        if len(words) == 2 and words[1].lower() in ("asc", "desc"):
            result.append((words[0], words[1].lower() == "desc"))
    return result


def _int_range(spec: FilterField) -> tuple[int, int]:
    column_type = spec.column.type
    if isinstance(column_type, Integer) and not isinstance(column_type, BigInteger):
        return INT32_MIN, INT32_MAX
    return INT64_MIN, INT64_MAX


def _filter_value(name: str, spec: FilterField, value: object) -> Any:
    invalid = InvalidRequest(f"Invalid value for `{name}` filter parameter")
    if isinstance(value, dict | list):
        raise invalid
    text = str(value)
    if text == "":
        return None
    result: Any
    if spec.kind == "bool":
        result = parse_bool(text)
    elif spec.kind == "int":
        result = parse_int(text)
        if result is not None and not fits_int(result, *_int_range(spec)):
            raise invalid
    elif spec.kind == "decimal":
        result = parse_decimal(text)
        if result is not None and not storable_decimal(result):
            raise invalid
    elif spec.kind == "timestamp":
        result = parse_timestamp(text)
    elif spec.kind == "lower":
        result = text.lower()
    else:
        result = text
    if result is None:
        raise invalid
    if spec.choices is not None and result not in spec.choices:
        raise invalid
    return result


def filter_conditions(
    filters: Mapping[str, Any], fields: Mapping[str, FilterField]
) -> list[ColumnElement[bool]]:
    """C9.1-C9.6: exact matches ANDed; unknown fields and bad values are 400s."""
    conditions: list[ColumnElement[bool]] = []
    for name, raw in filters.items():
        spec = fields.get(name)
        if spec is None:
            raise InvalidRequest(f"Invalid filter parameter: {name}")
        value = _filter_value(name, spec, raw)
        conditions.append(spec.column.is_(None) if value is None else spec.column == value)
    return conditions


def metadata_conditions(
    metadata_column: InstrumentedAttribute[Any], wanted: Mapping[str, str]
) -> list[ColumnElement[bool]]:
    """C9.7: exact string match on a metadata value; objects lacking the key are excluded."""
    return [metadata_column[key].as_string() == value for key, value in wanted.items()]


def order_by(
    sort: Sequence[tuple[str, bool]],
    fields: Mapping[str, FilterField],
    id_column: InstrumentedAttribute[Any],
    default_desc: bool = False,
) -> list[Any]:
    """Sort clauses with `id` as the tie-breaker so pages are stable (C7.9)."""
    clauses: list[Any] = []
    for name, descending in sort:
        spec = fields.get(name)
        if spec is not None:
            # Exact decimals are text on SQLite; order them as numbers there too.
            column = cast(spec.column, Numeric) if spec.kind == "decimal" else spec.column
            clauses.append(column.desc() if descending else column.asc())
    clauses.append(id_column.desc() if default_desc else id_column.asc())
    return clauses


async def fetch_page(
    session: AsyncSession, statement: Select[Any], ordering: list[Any], page: Page
) -> tuple[list[Any], int]:
    """One page of rows and the total count for the same filters."""
    total = int(
        await session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
        or 0
    )
    if page.offset >= total:
        return [], total  # past the end (C7.7); also keeps huge offsets away from the database
    rows = await session.scalars(
        statement.order_by(*ordering).offset(page.offset).limit(page.per_page)
    )
    return list(rows), total


def read_expand(query_params: Any) -> set[str]:
    """C10.1: `expand=a,b` or `expand[]=a`; unknown names are ignored by the caller."""
    raw = parse_pairs(list(query_params.multi_items())).get("expand")
    values = raw if isinstance(raw, list) else [raw]
    names: list[str] = []
    for value in values:
        if isinstance(value, str):
            names.extend(value.split(","))
    return {name.strip() for name in names if name.strip()}


def updated_conditions(query: ListQuery, column: InstrumentedAttribute[Any]) -> list[Any]:
    """C9.8: `updated_after` and `updated_before`, both strict."""
    conditions: list[Any] = []
    if (after := query.timestamp_param("updated_after")) is not None:
        conditions.append(column > after)
    if (before := query.timestamp_param("updated_before")) is not None:
        conditions.append(column < before)
    return conditions


def date_range_conditions(query: ListQuery, column: InstrumentedAttribute[Any]) -> list[Any]:
    """`start_date` and `end_date` on a document's date, both inclusive."""
    conditions: list[Any] = []
    if (start := query.timestamp_param("start_date")) is not None:
        conditions.append(column >= start)
    if (end := query.timestamp_param("end_date")) is not None:
        conditions.append(column <= end)
    return conditions


def money_filter(
    name: str,
    raw: object,
    column: InstrumentedAttribute[Any],
    currency_column: InstrumentedAttribute[Any],
) -> ColumnElement[bool]:
    """`filter[amount]=148.85`: major units, compared in minor units of each row's currency."""
    value = parse_decimal(raw) if isinstance(raw, str) else None
    if value is None or not storable_decimal(value):
        raise InvalidRequest(f"Invalid value for `{name}` filter parameter")
    branches = []
    specials = (*ZERO_DECIMAL, "bhd", "btc")
    for exp, currencies, others in (
        (0, ZERO_DECIMAL, False),
        (3, ("bhd",), False),
        (8, ("btc",), False),
        (2, specials, True),
    ):
        minor = value.scaleb(exp)
        if minor != minor.to_integral_value() or not fits_int(int(minor)):
            continue  # more decimals than the currency has, or beyond any amount: none
        in_set = currency_column.in_(currencies)
        branches.append(and_(not_(in_set) if others else in_set, column == int(minor)))
    return or_(*branches) if branches else false()
