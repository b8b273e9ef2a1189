"""README C21: account settings as an operator types them (`tally accounts set`)."""

from __future__ import annotations

import pytest

from tally.domain.account_settings import PARSERS, parse_settings
from tally.domain.errors import InvalidRequest


def test_every_c21_setting_is_parsed_to_its_stored_type():
    assert parse_settings(
        [
            "name=Globex",
            "currency=EUR",
            "country=fr",
            "time_zone=Europe/Paris",
            "payment_terms=NET 15",
            "default_customer_type=person",
            "default_collection_mode=auto",
            "autopay_supported=no",
            "autopay_delay_days=3",
            "chase_new_invoices=1",
            "auto_apply_credits=true",
            "transactions_inherit_invoice_metadata=on",
            "bcc=Billing@Example.com",
            "email_sending=smtp",
            "payment_gateway=test",
            "payment_retry_schedule=3, 5,7",
            "subscription_draft_invoices=false",
            "after_subscription_nonpayment=cancel",
        ]
    ) == {
        "name": "Globex",
        "currency": "eur",
        "country": "FR",
        "time_zone": "Europe/Paris",
        "payment_terms": "NET 15",
        "default_customer_type": "person",
        "default_collection_mode": "auto",
        "autopay_supported": False,
        "autopay_delay_days": 3,
        "chase_new_invoices": True,
        "auto_apply_credits": True,
        "transactions_inherit_invoice_metadata": True,
        "bcc": "Billing@example.com",
        "email_sending": "smtp",
        "payment_gateway": "test",
        "payment_retry_schedule": [3, 5, 7],
        "subscription_draft_invoices": False,
        "after_subscription_nonpayment": "cancel",
    }
    assert len(PARSERS) == 18


def test_empty_values_clear_the_nullable_settings():
    assert parse_settings(["payment_terms=", "bcc="]) == {"payment_terms": None, "bcc": None}


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("auto_apply_credits=maybe", "auto_apply_credits must be true or false"),
        ("time_zone=Mars/Olympus", "time_zone is not a known time zone: Mars/Olympus"),
        ("currency=zzz", "Currency is invalid"),
        ("country=ZZ", "Country is invalid"),
        (
            "autopay_delay_days=-1",
            "autopay_delay_days must be a whole number of days from 0 to 365",
        ),
        ("email_sending=fax", "email_sending must be one of: outbox, smtp"),
        ("payment_retry_schedule=", "payment_retry_schedule must list at least one number of days"),
        ("bcc=not-an-email", "bcc must be a valid email address"),
        ("name=", "name must be between 1 and 255 characters"),
        ("nonsense=1", "Unknown setting: nonsense."),
        ("auto_apply_credits", "Expected name=value, got: auto_apply_credits"),
    ],
)
def test_bad_values_are_refused(assignment, message):
    with pytest.raises(InvalidRequest) as caught:
        parse_settings(["name=Ok", assignment])
    assert caught.value.message.startswith(message), caught.value.message
