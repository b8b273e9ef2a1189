"""Every ORM model, in one package so that no two resource packages import each other."""

from tally.models.account import Account, ApiKey, Sequence
from tally.models.base import Base
from tally.models.customer import Contact, Customer
from tally.models.event import Event, EventAssociation
from tally.models.idempotency import IdempotentRequest

__all__ = [
    "Account",
    "ApiKey",
    "Base",
    "Contact",
    "Customer",
    "Event",
    "EventAssociation",
    "IdempotentRequest",
    "Sequence",
]
