"""Domain errors. They know nothing of HTTP; the web layer maps them in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base for every error a caller can cause."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class InvalidRequest(DomainError):
    """Bad input or a broken business rule (HTTP 400)."""


class NotFound(DomainError):
    """The object does not exist in the caller's account (HTTP 404).

    Another account's id lands here too: it must be indistinguishable from a missing one.
    """

    def __init__(self, object_name: str, object_id: object) -> None:
        super().__init__(f"{object_name} was not found: {object_id}")
        self.object_name = object_name
        self.object_id = object_id


class Conflict(DomainError):
    """A concurrent request holds what this one needs (HTTP 409)."""
