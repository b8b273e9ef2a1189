"""Email rules (emails.md): recipients (EM2-EM5), template choice (EM6), placeholders (EM7),
statement options (EM12). Pure: no database, no HTTP.

Subjects and messages are user templates: they are rendered in a Jinja2 sandbox that
only offers the EM7 placeholders and a few harmless filters, refuses loops, calls and
macros (so a template cannot spin or grow without bound), and renders unknown placeholders
as empty text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from jinja2 import ChainableUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from tally.domain.errors import InvalidRequest

MAX_RECIPIENTS = 5  # EM3

# EM6: the standard template ids (no custom template resource in v1).
NEW_INVOICE = "new_invoice_email"
UNPAID_INVOICE = "unpaid_invoice_email"
LATE_PAYMENT = "late_payment_reminder_email"
PAID_INVOICE = "paid_invoice_email"
PAYMENT_PLAN = "payment_plan_onboard_email"
PAYMENT_RECEIPT = "payment_receipt_email"
STATEMENT = "statement_email"
CREDIT_NOTE = "credit_note_email"
ESTIMATE = "estimate_email"
TEMPLATES = (
    NEW_INVOICE,
    UNPAID_INVOICE,
    LATE_PAYMENT,
    PAID_INVOICE,
    PAYMENT_PLAN,
    PAYMENT_RECEIPT,
    STATEMENT,
    CREDIT_NOTE,
    ESTIMATE,
)

# EM7: the placeholders every template may use.
PLACEHOLDERS = (
    "company_name",
    "customer_name",
    "customer_number",
    "invoice_number",
    "invoice_date",
    "due_date",
    "total",
    "balance",
    "url",
    "payment_url",
)

# EM7 default subjects (the spec's wording where it gives one).
SUBJECTS: dict[str, str] = {
    NEW_INVOICE: "New invoice {{invoice_number}} from {{company_name}}",
    UNPAID_INVOICE: "Reminder: invoice {{invoice_number}} from {{company_name}}",
    LATE_PAYMENT: "Reminder: invoice {{invoice_number}} from {{company_name}}",
    PAID_INVOICE: "Thank you for paying invoice {{invoice_number}}",
    PAYMENT_PLAN: "Payment plan for invoice {{invoice_number}} from {{company_name}}",
    PAYMENT_RECEIPT: "Payment receipt from {{company_name}}",
    STATEMENT: "Account statement from {{company_name}}",
    CREDIT_NOTE: "New credit note {{invoice_number}} from {{company_name}}",
    ESTIMATE: "New estimate {{invoice_number}} from {{company_name}}",
}

_SIGN_OFF = "\n\nThank you,\n{{company_name}}"
# Default bodies (plain text; the HTML part is built from the same text). Our wording.
BODIES: dict[str, str] = {
    NEW_INVOICE: (
        "Hi {{customer_name}},\n\n"
        "Your new invoice {{invoice_number}} from {{company_name}} is attached.\n\n"
        "Invoice date: {{invoice_date}}\n"
        "{% if due_date %}Due date: {{due_date}}\n{% endif %}"
        "Total: {{total}}\n"
        "Balance due: {{balance}}\n\n"
        "You can view the invoice online: {{url}}" + _SIGN_OFF
    ),
    UNPAID_INVOICE: (
        "Hi {{customer_name}},\n\n"
        "This is a friendly reminder that invoice {{invoice_number}} from {{company_name}} "
        "has a balance of {{balance}}"
        "{% if due_date %}, due {{due_date}}{% endif %}.\n\n"
        "Total: {{total}}\n"
        "Balance due: {{balance}}\n\n"
        "You can view the invoice online: {{url}}" + _SIGN_OFF
    ),
    LATE_PAYMENT: (
        "Hi {{customer_name}},\n\n"
        "Invoice {{invoice_number}} from {{company_name}} was due {{due_date}} and is now "
        "past due. The balance is {{balance}}.\n\n"
        "Total: {{total}}\n"
        "Balance due: {{balance}}\n\n"
        "You can view the invoice online: {{url}}" + _SIGN_OFF
    ),
    PAID_INVOICE: (
        "Hi {{customer_name}},\n\n"
        "Thank you for paying invoice {{invoice_number}} ({{total}}). "
        "A copy of the invoice is attached for your records.\n\n"
        "You can view the invoice online: {{url}}" + _SIGN_OFF
    ),
    PAYMENT_PLAN: (
        "Hi {{customer_name}},\n\n"
        "A payment plan has been proposed for invoice {{invoice_number}} ({{total}}).\n\n"
        "You can view the invoice online: {{url}}" + _SIGN_OFF
    ),
    PAYMENT_RECEIPT: (
        "Hi {{customer_name}},\n\n"
        "We received your payment of {{total}}. Your receipt is attached.\n\n"
        "You can view the receipt online: {{url}}" + _SIGN_OFF
    ),
    STATEMENT: (
        "Hi {{customer_name}},\n\n"
        "Your account statement from {{company_name}} is attached.\n\n"
        "Balance: {{balance}}\n\n"
        "You can view your statement online: {{url}}" + _SIGN_OFF
    ),
    CREDIT_NOTE: (
        "Hi {{customer_name}},\n\n"
        "Credit note {{invoice_number}} ({{total}}) from {{company_name}} is attached.\n\n"
        "You can view it online: {{url}}" + _SIGN_OFF
    ),
    ESTIMATE: (
        "Hi {{customer_name}},\n\n"
        "Estimate {{invoice_number}} ({{total}}) from {{company_name}} is attached.\n\n"
        "You can view it online: {{url}}" + _SIGN_OFF
    ),
}

STATEMENT_TYPES = ("balance_forward", "open_item")
STATEMENT_ITEMS = ("open", "past_due")


# ---------------------------------------------------------------------------- addresses


def normalize_address(value: str) -> str | None:
    """A valid address, lowercased and trimmed (CU17, §3 `email`); None if invalid.

    Addresses must be ASCII once the domain is IDNA-encoded: the messages are sent without
    the SMTPUTF8 extension.
    """
    text = value.strip()
    if not text or len(text) > 254:
        return None
    try:
        valid = validate_email(
            text, check_deliverability=False, test_environment=True, allow_smtputf8=False
        )
    except EmailNotValidError:
        return None
    return (valid.ascii_email or valid.normalized).lower()


@dataclass(frozen=True)
class Recipient:
    email: str  # normalized (lowercase)
    name: str | None = None


def _display(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def _entry(raw: object) -> tuple[object, object]:
    """(name, email) of one `to` entry: `{"name"?, "email"}` or a bare address."""
    if isinstance(raw, Mapping):
        return raw.get("name"), raw.get("email")
    return None, raw


def _entries(raw: object) -> list[object]:
    """`to` as a list: absent/empty → [], a string → its comma-separated addresses,
    a form-decoded object `{"0": {...}}` → its values in key order."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        return [part for part in raw.split(",") if part.strip()]
    if isinstance(raw, Mapping):
        if "email" in raw or "name" in raw:
            return [raw]  # one recipient object instead of a list
        return list(raw.values())
    if isinstance(raw, list | tuple):
        return list(raw)
    raise InvalidRequest(f"Invalid email address: {_display(raw)}", "to")


def parse_to(raw: object) -> list[tuple[str | None, str]]:
    """The requested `to` entries as (name, address text), unvalidated, in input order."""
    result: list[tuple[str | None, str]] = []
    for item in _entries(raw):
        name, email = _entry(item)
        if not isinstance(email, str):
            raise InvalidRequest(
                f"Invalid email address: {'' if email is None else _display(email)}", "to"
            )
        if isinstance(name, Mapping | list | tuple):
            raise InvalidRequest("Recipient names must be text.", "to")
        if name is not None and not isinstance(name, str):
            name = _display(name)
        result.append((name.strip() or None if isinstance(name, str) else None, email))
    return result


def resolve_recipients(
    requested: Sequence[tuple[str | None, str]],
    defaults: Sequence[Recipient],
    customer_name: str,
) -> list[Recipient]:
    """EM2-EM4: given recipients (or the defaults), de-duplicated case-insensitively (first
    occurrence kept), 1 to 5 of them, each valid; unnamed ones get the customer's name."""
    chosen: list[tuple[str | None, str]] = (
        list(requested) if requested else [(r.name, r.email) for r in defaults]
    )
    unique: dict[str, tuple[str | None, str]] = {}
    for name, email in chosen:
        unique.setdefault(email.strip().lower(), (name, email))
    if not unique:
        raise InvalidRequest(
            "No email recipients given. At least one recipient must be provided.", "to"
        )
    if len(unique) > MAX_RECIPIENTS:
        raise InvalidRequest(
            f"Cannot send to more than {MAX_RECIPIENTS} recipients at a time.", "to"
        )
    recipients: list[Recipient] = []
    seen: set[str] = set()
    for name, email in unique.values():
        address = normalize_address(email)
        if address is None:
            raise InvalidRequest(f"Invalid email address: {email}", "to")
        if address in seen:
            continue  # equal once normalized (e.g. an IDN domain written two ways)
        seen.add(address)
        recipients.append(Recipient(address, name or customer_name))
    return recipients


def default_recipients(
    contacts: Iterable[tuple[str, str | None, bool]],
    customer_name: str,
    customer_email: str | None,
) -> list[Recipient]:
    """CU17: primary contacts (ordered by name) with a valid email, then the customer's own
    email unless a primary contact already has it. Invalid addresses are skipped."""
    result: list[Recipient] = []
    seen: set[str] = set()
    for name, email, primary in sorted(contacts, key=lambda c: (c[0].lower(), c[0])):
        address = normalize_address(email) if primary and email else None
        if address is not None and address not in seen:
            seen.add(address)
            result.append(Recipient(address, name))
    own = normalize_address(customer_email) if customer_email else None
    if own is not None and own not in seen:
        result.append(Recipient(own, customer_name))
    return result


def parse_bcc(raw: object, account_bcc: str | None) -> list[str]:
    """EM5: comma-separated addresses, each valid; absent → the account's `bcc` setting."""
    if raw is None:
        raw = account_bcc or ""
    if isinstance(raw, list | tuple):
        parts = [_display(part) for part in raw]
    elif isinstance(raw, str | int):
        parts = str(raw).split(",")
    else:
        raise InvalidRequest(f"Invalid email address: {_display(raw)}", "bcc")
    result: list[str] = []
    for part in parts:
        if not part.strip():
            continue
        address = normalize_address(part)
        if address is None:
            raise InvalidRequest(f"Invalid email address: {part.strip()}", "bcc")
        if address not in result:
            result.append(address)
    return result


# ---------------------------------------------------------------------------- templates


def invoice_template(*, paid: bool, payment_plan_pending: bool, status: str, sent: bool) -> str:
    """EM6, first match."""
    if paid:
        return PAID_INVOICE
    if payment_plan_pending:
        return PAYMENT_PLAN
    if status == "past_due":
        return LATE_PAYMENT
    if not sent:
        return NEW_INVOICE
    return UNPAID_INVOICE


def check_template(raw: object, automatic: str) -> str:
    """EM6: an explicit `template` must be a standard id; absent → the automatic one."""
    if raw is None or raw == "":
        return automatic
    if not isinstance(raw, str) or raw not in TEMPLATES:
        raise InvalidRequest(f"No such email template: {_display(raw)}", "template")
    return raw


_PARSE_ERROR = "Could not render email template due to a parsing error: {detail}"
# The only syntax a placeholder template needs: text, names, constants, `if`, the listed
# filters, tests, comparisons and boolean logic. Everything else (arithmetic, concatenation,
# `%` formatting, collection literals, attribute access, calls, loops, macros, includes) is
# refused before rendering: each can build unbounded values, however the result is checked.
_ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.If,
    nodes.CondExpr,
    nodes.Filter,
    nodes.Test,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
)
# A subject or message template longer than this is refused unparsed.
MAX_TEMPLATE = 10_000
_SAFE_FILTERS = (
    "capitalize",
    "default",
    "d",
    "e",
    "escape",
    "first",
    "last",
    "length",
    "lower",
    "striptags",
    "title",
    "trim",
    "upper",
)
MAX_RENDERED = 100_000  # characters; a template cannot make a message larger than this


class _Sandbox(SandboxedEnvironment):
    """Placeholders only: no globals, a short list of filters (see _ALLOWED_NODES)."""


def _environment() -> _Sandbox:
    env = _Sandbox(autoescape=False, undefined=ChainableUndefined, keep_trailing_newline=True)
    env.globals.clear()
    env.filters = {name: env.filters[name] for name in _SAFE_FILTERS}
    env.tests = {name: env.tests[name] for name in ("defined", "undefined", "none", "string")}
    return env


_ENV = _environment()


def _check_nodes(tree: nodes.Template) -> None:
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED_NODES):
            kind = type(node).__name__.lower()
            raise TemplateSyntaxError(f"{kind} is not allowed in email templates", node.lineno)


def render_placeholders(source: str, values: Mapping[str, str], param: str | None) -> str:
    """EM7: `{{placeholder}}` substitution; unknown placeholders render empty; a template
    that does not parse (or uses anything beyond placeholders, `if` and the listed
    filters) → 400 `Could not render email template due to a parsing error: …`."""
    if len(source) > MAX_TEMPLATE:
        raise InvalidRequest(
            _PARSE_ERROR.format(detail=f"templates are limited to {MAX_TEMPLATE} characters"),
            param,
        )
    try:
        tree = _ENV.parse(source)
        _check_nodes(tree)
        template = _ENV.from_string(tree)
        rendered = template.render({name: values.get(name, "") for name in PLACEHOLDERS})
    except TemplateSyntaxError as exc:
        raise InvalidRequest(
            _PARSE_ERROR.format(detail=exc.message or "syntax error"), param
        ) from None
    except RecursionError:  # nesting deeper than the parser's stack
        raise InvalidRequest(_PARSE_ERROR.format(detail="nested too deeply"), param) from None
    except (TemplateError, ArithmeticError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidRequest(
            _PARSE_ERROR.format(detail=str(exc) or type(exc).__name__), param
        ) from None
    if len(rendered) > MAX_RENDERED:
        raise InvalidRequest(_PARSE_ERROR.format(detail="the result would be too long"), param)
    return rendered


_WHITESPACE = re.compile(r"\s+")


def one_line(text: str) -> str:
    """A subject fit for a header: whitespace (including line breaks) collapsed."""
    return _WHITESPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Content:
    template: str
    subject: str
    message: str  # the plain text body


def render_content(
    template: str,
    values: Mapping[str, str],
    *,
    subject: object = None,
    message: object = None,
) -> Content:
    """EM7: subject and body from the template unless overridden, placeholders filled."""
    subject_source, subject_param = SUBJECTS[template], None
    if subject is not None and subject != "":
        if not isinstance(subject, str):
            raise InvalidRequest("Subject is invalid", "subject")
        subject_source, subject_param = subject, "subject"
    body_source, body_param = BODIES[template], None
    if message is not None and message != "":
        if not isinstance(message, str):
            raise InvalidRequest("Message is invalid", "message")
        body_source, body_param = message, "message"
    rendered_subject = one_line(render_placeholders(subject_source, values, subject_param))
    rendered_body = render_placeholders(body_source, values, body_param).strip("\n")
    return Content(template, rendered_subject, rendered_body)


# ---------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class StatementRequest:
    type: str = "balance_forward"
    start: int | None = None
    end: int | None = None
    items: str = "open"
    currency: str | None = None


def check_statement_choice(raw: object, allowed: Sequence[str], default: str) -> str | None:
    """The value if allowed, the default when absent, None when not allowed."""
    if raw is None or raw == "":
        return default
    if isinstance(raw, str) and raw in allowed:
        return raw
    return None


def statement_type(raw: object) -> str:
    """EM12: `balance_forward` (default) or `open_item`."""
    value = check_statement_choice(raw, STATEMENT_TYPES, "balance_forward")
    if value is None:
        raise InvalidRequest(f"Unrecognized statement type: {_display(raw)}", "type")
    return value


def statement_items(raw: object) -> str:
    """EM12: `open` (default) or `past_due`."""
    value = check_statement_choice(raw, STATEMENT_ITEMS, "open")
    if value is None:
        raise InvalidRequest("Items must be one of the allowed values", "items")
    return value
