"""Every ORM model, in one package so that no two resource packages import each other."""

from tally.models.account import Account, ApiKey, Sequence
from tally.models.base import Base
from tally.models.catalog import CatalogItem, Coupon, TaxRate
from tally.models.customer import Contact, Customer
from tally.models.email import Email, EmailMessage
from tally.models.event import Event, EventAssociation
from tally.models.idempotency import IdempotentRequest
from tally.models.invoice import AppliedRate, Invoice, LineItem
from tally.models.job import Job, JobSchedule
from tally.models.payment import Payment
from tally.models.transaction import Transaction

# SQLite reuses the highest rowid after that row is deleted unless the table is declared
# AUTOINCREMENT; a deleted id must stay deleted (C16.4), so every table keyed by a single
# generated id asks for it. PostgreSQL sequences never reuse values anyway.
for _table in Base.metadata.tables.values():
    _key = list(_table.primary_key.columns)
    if len(_key) == 1 and _key[0].name in ("id", "pk") and _key[0].autoincrement is not False:
        _table.dialect_options["sqlite"]["autoincrement"] = True

__all__ = [
    "Account",
    "ApiKey",
    "AppliedRate",
    "Base",
    "CatalogItem",
    "Contact",
    "Coupon",
    "Customer",
    "Email",
    "EmailMessage",
    "Event",
    "EventAssociation",
    "IdempotentRequest",
    "Invoice",
    "Job",
    "JobSchedule",
    "LineItem",
    "Payment",
    "Sequence",
    "TaxRate",
    "Transaction",
]
