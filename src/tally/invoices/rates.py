"""Turning request entries into applied discounts, taxes and shipping (invoices.md §4).

An entry is `{"amount": 3.85}` (custom), `{"tax_rate": "vat"}` / `{"coupon": "x"}` (an id or
an object with `id`), a bare id string, or on PATCH `{"id": 20554, ...}` to keep an applied
rate of this document. The applied row copies the rate object as it is now (CT2).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from tally.context import Context
from tally.coupons.repository import live_coupon
from tally.coupons.schemas import coupon_json
from tally.domain.coerce import parse_decimal, parse_int, parse_timestamp, storable_decimal
from tally.domain.errors import InvalidRequest
from tally.live_ids import coupons
from tally.models import AppliedRate
from tally.tax_rates.repository import live_tax_rate
from tally.tax_rates.schemas import tax_rate_json

RATE_KEY = {"discount": "coupon", "tax": "tax_rate", "shipping": "shipping_rate"}
LIST_NAME = {"discount": "discounts", "tax": "taxes", "shipping": "shipping"}


def _rate_id(value: object, param: str, kind: str) -> str:
    ident = value.get("id") if isinstance(value, dict) else value
    if isinstance(ident, bool) or not isinstance(ident, str | int) or str(ident) == "":
        raise InvalidRequest(f"{LIST_NAME[kind].capitalize()} entries are invalid", param)
    return str(ident)


def _amount(value: object, param: str) -> Decimal:
    amount = parse_decimal(value)
    if amount is None or not storable_decimal(amount):
        raise InvalidRequest("Amount is invalid", param)
    return amount


async def _rate_object(
    ctx: Context, kind: str, rate_id: str, param: str, currency: str
) -> dict[str, Any]:
    if kind == "tax":
        rate = await live_tax_rate(ctx.session, ctx.account_id, rate_id)
        if rate is None:
            raise InvalidRequest(f"No such tax rate: {rate_id}", param)  # AR1
        return tax_rate_json(rate)
    coupon = await live_coupon(ctx.session, ctx.account_id, rate_id)
    if coupon is None:
        raise InvalidRequest(f"No such coupon: {rate_id}", param)  # AR1
    # CT10-CT12, checked when a coupon is newly attached.
    if coupon.expiration_date is not None and coupon.expiration_date < ctx.now:
        raise InvalidRequest(f"The coupon {rate_id} has expired.", param)
    if coupon.max_redemptions > 0:
        # Lock the coupon while counting, so two documents cannot take its last redemption.
        await coupons.get(ctx.session, ctx.account_id, rate_id, lock=True)
        used = await ctx.session.scalar(
            select(func.count()).where(
                AppliedRate.account_id == ctx.account_id,
                AppliedRate.kind == "discount",
                AppliedRate.rate_id == rate_id,
            )
        )
        if (used or 0) >= coupon.max_redemptions:
            raise InvalidRequest(
                f"The coupon {rate_id} has reached its maximum number of redemptions.", param
            )
    if not coupon.is_percent and coupon.currency and coupon.currency != currency:
        raise InvalidRequest(
            f"The coupon {rate_id} is in {coupon.currency.upper()}, "
            f"not in the document currency {currency.upper()}.",
            param,
        )
    return coupon_json(coupon)


async def resolve(
    ctx: Context,
    raw: Sequence[Any],
    kind: str,
    *,
    param: str,
    existing: Sequence[AppliedRate],
    currency: str,
) -> list[AppliedRate]:
    """The applied rows for one list, in order: kept rows updated, new rows unsaved."""
    by_id: dict[int | None, AppliedRate] = {row.id: row for row in existing if row.id is not None}
    result: list[AppliedRate] = []
    seen: set[str] = set()
    for entry in raw:
        row: AppliedRate | None = None
        applied_id = entry.get("id") if isinstance(entry, dict) else None
        kept = by_id.get(_applied_id(applied_id))
        if isinstance(entry, dict) and kept is not None:
            # §4.4: an entry naming one of this document's applied rates keeps it, even when
            # sent back whole (rate object included): the copied rate stays as it was (CT2).
            if any(r is kept for r in result):
                continue  # AR2: the same applied rate twice counts once
            row = kept
            if "amount" in entry and row.rate is None:
                row.custom_amount = _amount(entry["amount"], param)
        elif (
            isinstance(entry, dict)
            and applied_id not in (None, "")
            and RATE_KEY[kind] not in entry
            and "amount" not in entry
        ):
            raise InvalidRequest(f"Referenced {kind} that does not exist: {applied_id}", param)
        elif isinstance(entry, dict) and entry.get(RATE_KEY[kind]) not in (None, ""):
            if kind == "shipping":
                raise InvalidRequest("Shipping rates are not supported", param)
            rate_id = _rate_id(entry[RATE_KEY[kind]], param, kind)
            row = AppliedRate(
                kind=kind,
                rate_id=rate_id,
                rate=await _rate_object(ctx, kind, rate_id, param, currency),
            )
        elif isinstance(entry, dict):
            if "amount" not in entry:
                raise InvalidRequest(
                    f"{LIST_NAME[kind].capitalize()} entries need an amount", param
                )
            row = AppliedRate(kind=kind, custom_amount=_amount(entry["amount"], param))
        elif isinstance(entry, str | int) and not isinstance(entry, bool) and kind != "shipping":
            rate_id = _rate_id(entry, param, kind)
            row = AppliedRate(
                kind=kind,
                rate_id=rate_id,
                rate=await _rate_object(ctx, kind, rate_id, param, currency),
            )
        else:
            raise InvalidRequest(f"{LIST_NAME[kind].capitalize()} entries are invalid", param)
        if row.rate_id is not None:
            if row.rate_id in seen:
                continue  # AR2: the same rate twice counts once
            seen.add(row.rate_id)
        elif not row.custom_amount:
            continue  # AR3: a custom amount of 0 is not stored
        if kind == "discount" and isinstance(entry, dict) and "expires" in entry:
            row.expires = None if entry["expires"] in (None, "") else _timestamp(entry, param)
        result.append(row)
    return result


def _applied_id(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return parse_int(value) if isinstance(value, str) else None


def _timestamp(entry: dict[str, Any], param: str) -> int:
    value = parse_timestamp(entry["expires"])
    if value is None:
        raise InvalidRequest("Expires is invalid", param)
    return value


def check_coupon_currencies(rows: Sequence[AppliedRate], currency: str) -> None:
    """CT12: a fixed-amount coupon only applies to documents in its own currency."""
    for row in rows:
        coupon = row.rate if row.kind == "discount" else None
        if (
            coupon
            and not coupon.get("is_percent")
            and coupon.get("currency") not in (None, currency)
        ):
            raise InvalidRequest(
                f"The coupon {row.rate_id} is in {str(coupon['currency']).upper()}, "
                f"not in the document currency {currency.upper()}.",
                "discounts",
            )


def check_exclusive_coupons(rows: Sequence[AppliedRate], param: str) -> None:
    """CT9: an exclusive coupon cannot be combined with any other coupon."""
    coupons = [r for r in rows if r.kind == "discount" and r.rate is not None]
    if len(coupons) > 1 and any(r.rate and r.rate.get("exclusive") for r in coupons):
        raise InvalidRequest("An exclusive coupon cannot be combined with other coupons.", param)


def check_tax_applied_once(
    line_rows: Sequence[AppliedRate], document_rows: Sequence[AppliedRate]
) -> None:
    """AR4: one tax rate on a line and on the subtotal would tax twice."""
    on_lines = {r.rate_id for r in line_rows if r.kind == "tax" and r.rate_id}
    for row in document_rows:
        if row.kind == "tax" and row.rate_id in on_lines:
            raise InvalidRequest(
                f"This document cannot be saved because a tax rate (ID: {row.rate_id}) is "
                "being applied to a line item and the subtotal. Please make sure the tax "
                "rate is applied only once to save this document.",
                "items",
            )
