"""Every ORM model, in one package so that no two resource packages import each other."""

from tally.models.account import Account, ApiKey, Sequence
from tally.models.base import Base
from tally.models.catalog import CatalogItem, Coupon, TaxRate
from tally.models.customer import Contact, Customer
from tally.models.event import Event, EventAssociation
from tally.models.idempotency import IdempotentRequest
from tally.models.invoice import AppliedRate, Invoice, LineItem
from tally.models.transaction import Transaction

__all__ = [
    "Account",
    "ApiKey",
    "AppliedRate",
    "Base",
    "CatalogItem",
    "Contact",
    "Coupon",
    "Customer",
    "Event",
    "EventAssociation",
    "IdempotentRequest",
    "Invoice",
    "LineItem",
    "Sequence",
    "TaxRate",
    "Transaction",
]
