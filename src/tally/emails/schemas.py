"""Request and response shapes of the email routes (emails.md §2, §3).

The request models document the bodies for OpenAPI; the service reads the decoded body
itself (tally.domain.emails), because `to` takes several shapes and the rules have their own
messages (EM3-EM7, EM12).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, WithJsonSchema

from tally.domain.emails import STATEMENT_ITEMS, STATEMENT_TYPES, TEMPLATES
from tally.domain.iso import currency_codes
from tally.http.validation import Input

_ADDRESS = r"[^@\s,]+@[^@\s,]+\.[^@\s,]+"
_ADDRESS_LIST = rf"^\s*{_ADDRESS}\s*(,\s*{_ADDRESS}\s*)*$"
_BLANK = {"type": "string", "maxLength": 0}
_NULL = {"type": "null"}
_RECIPIENT = {
    "type": "object",
    "properties": {
        "name": {"anyOf": [{"type": "string"}, _NULL]},
        "email": {"type": "string", "pattern": rf"^\s*{_ADDRESS}\s*$"},
    },
    "required": ["email"],
}
To = Annotated[
    Any,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "array", "items": _RECIPIENT},
                {"type": "string", "pattern": _ADDRESS_LIST},
                _BLANK,
                _NULL,
            ],
            "description": "Recipients; absent or empty: the customer's default recipients",
        }
    ),
]
Bcc = Annotated[
    Any,
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": _ADDRESS_LIST}, _BLANK, _NULL],
            "description": "Comma-separated addresses to blind-copy",
        }
    ),
]
Template = Annotated[
    Any, WithJsonSchema({"anyOf": [{"type": "string", "enum": list(TEMPLATES)}, _BLANK, _NULL]})
]
Text = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "string"}, _NULL]})]


StatementType = Annotated[
    Any,
    WithJsonSchema({"anyOf": [{"type": "string", "enum": list(STATEMENT_TYPES)}, _BLANK, _NULL]}),
]
StatementItems = Annotated[
    Any,
    WithJsonSchema({"anyOf": [{"type": "string", "enum": list(STATEMENT_ITEMS)}, _BLANK, _NULL]}),
]
Moment = Annotated[
    Any,
    WithJsonSchema(
        {"anyOf": [{"type": "integer"}, {"type": "string"}, _NULL], "description": "Timestamp"}
    ),
]
Currency = Annotated[
    Any,
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "enum": sorted({*currency_codes(), *(c.upper() for c in currency_codes())}),
                },
                _BLANK,
                _NULL,
            ]
        }
    ),
]


class SendEmailInput(Input):
    """`POST /invoices|payments|transactions/{id}/emails` (emails.md §2)."""

    to: To = None
    bcc: Bcc = None
    template: Template = None
    subject: Text = None
    message: Text = None


class SendStatementInput(SendEmailInput):
    """`POST /customers/{id}/emails`: an account statement (EM12)."""

    type: StatementType = None
    start: Moment = None
    end: Moment = None
    items: StatementItems = None
    currency: Currency = None


class EmailOut(BaseModel):
    """emails.md §3."""

    model_config = ConfigDict(extra="forbid")

    id: str
    object: Literal["email"]
    customer: int | None
    state: Literal[
        "sent", "queued", "scheduled", "invalid", "deferred", "rejected", "soft-bounced", "bounced"
    ]
    reject_reason: str | None
    email: str
    template: str
    subject: str
    message: str
    opens: int
    opens_detail: list[Any]
    created_at: int
    updated_at: int
