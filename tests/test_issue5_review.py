"""Regressions from the adversarial review of issue 5 (job runner, emails, statements,
documents, hosted pages): each test reproduced a bug found there, now fixed.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import select, update

from tally.clock import Clock
from tally.config import Settings
from tally.db import Database
from tally.jobs import JobRun, enqueue
from tally.jobs.worker import Worker
from tally.models import Job
from tests.support import new_account
from tests.test_invoices import SEED_FORM, acme, created

DAY = 86_400


def seed(api: Any) -> dict[str, Any]:
    """invoices.md Example I-1: Acme, INV-00001, total 148.85."""
    customer = acme(api)
    return created(api.post("/invoices", data={"customer": customer["id"], **SEED_FORM}))


def call(api: Any, method: str, path: str, **kwargs: Any) -> Any:
    """Like api.request, but a server error comes back as the 500 a client would see (the
    session's client, so the app keeps its own event loop and connections)."""
    transport = api.client._transport
    kwargs.setdefault("auth", api.auth)
    transport.raise_server_exceptions = False
    try:
        return api.client.request(method, path, **kwargs)
    finally:
        transport.raise_server_exceptions = True


# ---------------------------------------------------------------------------- EM12 statements


@pytest.mark.parametrize(
    "body",
    [
        {"end": 253_402_300_800},  # year 10000
        {"start": -62_135_596_900, "end": 0},  # before year 1
        {"start": -(2**63), "end": 2**63 - 1},  # int64 edges
        {"end": "0001-01-01T00:00:00+14:00"},  # ISO text that lands before year 1
    ],
)
def test_em12_statement_period_out_of_range_is_400_not_500(api: Any, body: dict[str, Any]) -> None:
    customer = acme(api)
    r = call(api, "POST", f"/customers/{customer['id']}/emails", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["param"] in ("start", "end")


# ---------------------------------------------------------------------------- EM7 templates


def test_em7_deeply_nested_template_is_400_not_500(api: Any) -> None:
    invoice = seed(api)
    message = "{{ " + "(" * 100 + "1" + ")" * 100 + " }}"
    r = call(api, "POST", f"/invoices/{invoice['id']}/emails", json={"message": message})
    assert r.status_code == 400, r.text
    assert r.json()["param"] == "message"


@pytest.mark.parametrize(
    "message",
    ["{{ customer_name|truncate(-5) }}", "{{ customer_name|truncate(1, True, 'xxxxxx') }}"],
)
def test_em7_truncate_with_bad_arguments_is_400_not_500(api: Any, message: str) -> None:
    invoice = seed(api)
    r = call(api, "POST", f"/invoices/{invoice['id']}/emails", json={"message": message})
    assert r.status_code == 400, r.text
    assert r.json()["message"].startswith("Could not render email template")


@pytest.mark.parametrize(
    "message",
    [
        "{{ ('%010000000d' % 0)|length }}",  # 10 MB string
        "{{ ((1,) * 2000000)|length }}",  # 2M-element tuple (lists are bounded, tuples not)
        "{{ ('x' * 99999 ~ 'x' * 99999 ~ 'x' * 99999)|length }}",  # concatenation unbounded
        "{{ ('x' * 99999 + 'x' * 99999 + 'x' * 99999)|length }}",  # + intercepted, unchecked
    ],
)
def test_em7_template_cannot_build_values_beyond_the_limit(api: Any, message: str) -> None:
    invoice = seed(api)
    r = call(api, "POST", f"/invoices/{invoice['id']}/emails", json={"message": message})
    assert r.status_code == 400, r.text


# ---------------------------------------------------------------------------- job runner


def test_a_job_whose_worker_died_on_its_last_attempt_is_not_run_again(db_url: str) -> None:
    account = new_account(db_url)
    ran: list[int] = []

    async def handler(job: JobRun) -> None:
        ran.append(job.attempts)

    async def main() -> tuple[str, int]:
        settings = Settings(database_url=db_url)
        database = Database(settings)
        clock = Clock()
        try:
            async with database.session(write=True) as session:
                job = enqueue(
                    session,
                    name="review_poison",
                    now=clock.now(),
                    account_id=account.id,
                    max_attempts=1,
                )
                await session.commit()
                job_id = job.id
            async with database.session(write=True) as session:
                # A worker claimed it (attempt 1 of 1) and died: the lease has run out.
                await session.execute(
                    update(Job)
                    .where(Job.id == job_id)
                    .values(
                        status="running",
                        attempts=1,
                        worker="dead:1",
                        lease_until=int(time.time()) - 1,
                    )
                )
                await session.commit()
            worker = Worker(database, clock, settings, {"review_poison": handler}, {})
            await worker.run_due(account_id=account.id)
            async with database.session(write=False) as session:
                row = (await session.scalars(select(Job).where(Job.id == job_id))).one()
                return row.status, row.attempts
        finally:
            await database.dispose()

    status, attempts = asyncio.run(main())
    assert ran == []  # attempt 2 of a job allowed 1
    assert (status, attempts) == ("failed", 1)


# ---------------------------------------------------------------------------- EM10 delivery


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_em10_an_smtp_auth_refusal_defers_instead_of_rejecting() -> None:
    from aiosmtpd.controller import Controller

    from tally.emails.delivery import send_now
    from tests.support import free_port

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    port = free_port()
    controller = Controller(
        Sink(), hostname="127.0.0.1", port=port, auth_required=True, auth_require_tls=False
    )
    controller.start()
    try:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_seconds=5)
        outcome = send_now(
            settings, "billing@localhost", ["client@example.com"], b"Subject: x\r\n\r\nx"
        )
    finally:
        controller.stop()
    assert outcome.rejected == {}
    assert set(outcome.deferred) == {"client@example.com"}


def test_em3_a_recipient_name_that_is_not_text_is_400(api: Any) -> None:
    customer = api.post("/customers", json={"name": "Acme", "email": "a@acmecorp.com"}).json()
    invoice = api.post(
        "/invoices", json={"customer": customer["id"], "items": [{"name": "W", "unit_cost": 1}]}
    ).json()
    response = api.post(
        f"/invoices/{invoice['id']}/emails",
        json={"to": [{"name": {"x": 1}, "email": "b@acmecorp.com"}]},
    )
    assert response.status_code == 400
    assert (response.json()["message"], response.json()["param"]) == (
        "Recipient names must be text.",
        "to",
    )
    assert api.get("/emails", params={"filter[customer]": customer["id"]}).json() == []
