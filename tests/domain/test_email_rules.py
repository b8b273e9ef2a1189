"""Golden tests for the pure email rules (emails.md EM2-EM7, EM12; customers.md CU17)."""

from __future__ import annotations

import pytest

from tally.domain import emails as rules
from tally.domain.emails import Recipient
from tally.domain.errors import InvalidRequest


def refused(call, *args, **kwargs) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        call(*args, **kwargs)
    return info.value


# -- EM2 / CU17: default recipients ---------------------------------------------------------


def test_cu17_primary_contacts_by_name_then_customer_email():
    contacts = [
        ("Zoe Ap", "zoe@acmecorp.com", True),
        ("Nancy Talty", " Nancy.Talty@Example.com ", True),
        ("Not Primary", "np@acmecorp.com", False),
        ("No Email", None, True),
        ("Broken", "not-an-address", True),
    ]
    assert rules.default_recipients(contacts, "Acme", "billing@acmecorp.com") == [
        Recipient("nancy.talty@example.com", "Nancy Talty"),
        Recipient("zoe@acmecorp.com", "Zoe Ap"),
        Recipient("billing@acmecorp.com", "Acme"),
    ]


def test_cu17_customer_email_not_repeated_when_a_primary_contact_has_it():
    contacts = [("Billing Desk", "BILLING@acmecorp.com", True)]
    assert rules.default_recipients(contacts, "Acme", "billing@acmecorp.com") == [
        Recipient("billing@acmecorp.com", "Billing Desk")
    ]


def test_cu17_no_contacts_no_email_is_empty():
    assert rules.default_recipients([], "Acme", None) == []
    assert rules.default_recipients([], "Acme", "nope") == []


# -- EM3 / EM4: resolving recipients ---------------------------------------------------------


def test_em_b_dedup_first_occurrence_kept_and_names_default_to_customer():
    requested = rules.parse_to(
        [
            {"name": "Client", "email": "Client@Example.com"},
            {"email": "client@example.com"},
            {"email": "ap@acmecorp.com"},
        ]
    )
    assert rules.resolve_recipients(requested, [], "Acme") == [
        Recipient("client@example.com", "Client"),
        Recipient("ap@acmecorp.com", "Acme"),
    ]


def test_em2_defaults_used_when_to_absent_or_empty():
    defaults = [Recipient("billing@acmecorp.com", "Acme")]
    for raw in (None, "", [], {}):
        assert rules.resolve_recipients(rules.parse_to(raw), defaults, "Acme") == defaults


def test_em3_zero_recipients():
    error = refused(rules.resolve_recipients, [], [], "Acme")
    assert (error.message, error.param) == (
        "No email recipients given. At least one recipient must be provided.",
        "to",
    )


def test_em3_more_than_five_after_dedup():
    five = [(None, f"u{i}@example.com") for i in range(5)]
    assert len(rules.resolve_recipients([*five, (None, "U0@EXAMPLE.COM")], [], "A")) == 5
    error = refused(rules.resolve_recipients, [*five, (None, "u5@example.com")], [], "A")
    assert (error.message, error.param) == (
        "Cannot send to more than 5 recipients at a time.",
        "to",
    )


@pytest.mark.parametrize("bad", ["not-an-address", "a b@example.com", "x@", "@example.com"])
def test_em3_invalid_address(bad):
    error = refused(rules.resolve_recipients, [(None, bad)], [], "Acme")
    assert (error.message, error.param) == (f"Invalid email address: {bad}", "to")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("client@example.com", [(None, "client@example.com")]),
        ("a@example.com, b@example.com", [(None, "a@example.com"), (None, " b@example.com")]),
        ({"email": "a@example.com"}, [(None, "a@example.com")]),
        ({"0": {"name": "A", "email": "a@example.com"}}, [("A", "a@example.com")]),
        (["a@example.com"], [(None, "a@example.com")]),
        ([{"name": "  ", "email": "a@example.com"}], [(None, "a@example.com")]),
    ],
)
def test_to_shapes(raw, expected):
    assert rules.parse_to(raw) == expected


@pytest.mark.parametrize("raw", [[{"name": "x"}], [{"email": 5}], [None], 12])
def test_to_entries_without_an_address_are_invalid(raw):
    error = refused(rules.parse_to, raw)
    assert error.param == "to"
    assert error.message.startswith("Invalid email address: ")


# -- EM5: bcc --------------------------------------------------------------------------------


def test_em5_bcc_parsed_deduplicated_and_account_default():
    assert rules.parse_bcc("audit@acmebilling.test, A@x.com,a@x.com", None) == [
        "audit@acmebilling.test",
        "a@x.com",
    ]
    assert rules.parse_bcc(None, "books@acme.com") == ["books@acme.com"]
    assert rules.parse_bcc("", "books@acme.com") == []  # explicitly none
    assert rules.parse_bcc(None, None) == []


def test_em5_invalid_bcc():
    error = refused(rules.parse_bcc, "ok@x.com,broken", None)
    assert (error.message, error.param) == ("Invalid email address: broken", "bcc")


# -- EM6: template choice --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "template"),
    [
        (
            {"paid": True, "payment_plan_pending": True, "status": "paid", "sent": True},
            "paid_invoice_email",
        ),
        (
            {"paid": False, "payment_plan_pending": True, "status": "past_due", "sent": False},
            "payment_plan_onboard_email",
        ),
        (
            {"paid": False, "payment_plan_pending": False, "status": "past_due", "sent": False},
            "late_payment_reminder_email",
        ),
        (
            {"paid": False, "payment_plan_pending": False, "status": "not_sent", "sent": False},
            "new_invoice_email",
        ),
        (
            {"paid": False, "payment_plan_pending": False, "status": "draft", "sent": False},
            "new_invoice_email",
        ),
        (
            {"paid": False, "payment_plan_pending": False, "status": "sent", "sent": True},
            "unpaid_invoice_email",
        ),
        (
            {"paid": False, "payment_plan_pending": False, "status": "viewed", "sent": True},
            "unpaid_invoice_email",
        ),
    ],
)
def test_em6_invoice_template_first_match(facts, template):
    assert rules.invoice_template(**facts) == template


def test_em6_explicit_template_must_be_standard():
    assert rules.check_template(None, "new_invoice_email") == "new_invoice_email"
    assert rules.check_template("paid_invoice_email", "new_invoice_email") == "paid_invoice_email"
    error = refused(rules.check_template, "nope", "new_invoice_email")
    assert (error.message, error.param) == ("No such email template: nope", "template")


# -- EM7: placeholders -----------------------------------------------------------------------

VALUES = {
    "company_name": "Acme Billing",
    "customer_name": "Acme",
    "customer_number": "CUST-00001",
    "invoice_number": "INV-00001",
    "invoice_date": "Nov 14, 2023",
    "due_date": "",
    "total": "$148.85",
    "balance": "$148.85",
    "url": "http://localhost:8000/portal/invoices/a/b",
    "payment_url": "http://localhost:8000/portal/invoices/a/b/payment",
}


@pytest.mark.parametrize(
    ("template", "subject"),
    [
        ("new_invoice_email", "New invoice INV-00001 from Acme Billing"),
        ("unpaid_invoice_email", "Reminder: invoice INV-00001 from Acme Billing"),
        ("late_payment_reminder_email", "Reminder: invoice INV-00001 from Acme Billing"),
        ("paid_invoice_email", "Thank you for paying invoice INV-00001"),
        ("payment_receipt_email", "Payment receipt from Acme Billing"),
        ("statement_email", "Account statement from Acme Billing"),
    ],
)
def test_em7_default_subjects(template, subject):
    content = rules.render_content(template, VALUES)
    assert content.subject == subject
    assert content.template == template
    assert "Acme" in content.message


def test_em7_default_new_invoice_body_has_amounts_and_url():
    message = rules.render_content("new_invoice_email", VALUES).message
    assert "$148.85" in message
    assert VALUES["url"] in message
    assert "Due date" not in message  # no due date: the line is left out


def test_em_b_overrides():
    content = rules.render_content(
        "unpaid_invoice_email",
        VALUES,
        subject="Your invoice {{invoice_number}}",
        message="Balance due: {{balance}}",
    )
    assert (content.subject, content.message) == ("Your invoice INV-00001", "Balance due: $148.85")


def test_em7_unknown_placeholders_render_empty():
    assert (
        rules.render_placeholders("[{{nope}}][{{ customer_email }}]", VALUES, "message") == "[][]"
    )


def test_em7_every_placeholder():
    source = " ".join("{{" + name + "}}" for name in rules.PLACEHOLDERS)
    assert rules.render_placeholders(source, VALUES, None) == " ".join(
        VALUES[name] for name in rules.PLACEHOLDERS
    )


def test_em7_values_are_not_templates_and_not_escaped():
    values = {**VALUES, "customer_name": "<b>{{company_name}}</b> & co"}
    assert rules.render_placeholders("{{customer_name}}", values, None) == (
        "<b>{{company_name}}</b> & co"
    )


@pytest.mark.parametrize("source", ["{{ invoice_number ", "{% if %}", "{{ }}", "{% endif %}"])
def test_em7_parse_error(source):
    error = refused(rules.render_placeholders, source, VALUES, "subject")
    assert error.message.startswith("Could not render email template due to a parsing error: ")
    assert error.param == "subject"


@pytest.mark.parametrize(
    "source",
    [
        "{% for c in customer_name %}{% for d in customer_name %}x{% endfor %}{% endfor %}",
        "{{ customer_name.__class__ }}",
        "{{ customer_name.center(1000000000) }}",
        "{{ customer_name * 100000000 }}",
        "{{ 9 ** 9 ** 9 }}",
        "{{ customer_name|center(1000000000) }}",
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
        "{% include 'x' %}",
        "{{ range(10) }}",
        "{{ customer_name[0] }}",
    ],
)
def test_em7_templates_cannot_escape_or_explode(source):
    error = refused(rules.render_placeholders, source, VALUES, "message")
    assert error.message.startswith("Could not render email template due to a parsing error: ")


def test_em7_if_and_simple_filters_allowed():
    source = "{% if due_date %}due {{due_date}}{% else %}{{ customer_name|upper }}{% endif %}"
    assert rules.render_placeholders(source, VALUES, None) == "ACME"


def test_subject_is_one_line():
    content = rules.render_content("new_invoice_email", VALUES, subject="A\r\nBcc: x@y.com\n B")
    assert content.subject == "A Bcc: x@y.com B"


# -- EM12: statement options -----------------------------------------------------------------


def test_em12_statement_type_and_items():
    assert rules.statement_type(None) == "balance_forward"
    assert rules.statement_type("open_item") == "open_item"
    error = refused(rules.statement_type, "weekly")
    assert (error.message, error.param) == ("Unrecognized statement type: weekly", "type")
    assert rules.statement_items(None) == "open"
    assert rules.statement_items("past_due") == "past_due"
    assert refused(rules.statement_items, "all").param == "items"
