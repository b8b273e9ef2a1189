"""Regressions from the review of transactions (TX2, TX11, TX12, R12)."""

from __future__ import annotations

import asyncio

import httpx


def created(response):
    assert response.status_code == 201, response.text
    return response.json()


def setup(api, total=100):
    customer = created(api.post("/customers", json={"name": "Acme"}))["id"]
    invoice = created(
        api.post("/invoices", json={"customer": customer, "items": [{"unit_cost": total}]})
    )["id"]
    return customer, invoice


def balance(api, invoice):
    return api.get(f"/invoices/{invoice}").json()["balance"]


def test_tx11_a_child_must_share_its_parents_invoice(api):
    customer, a = setup(api)
    b = created(api.post("/invoices", json={"customer": customer, "items": [{"unit_cost": 100}]}))[
        "id"
    ]
    parent = created(api.post("/transactions", json={"invoice": a, "amount": 100}))["id"]
    response = api.post(
        "/transactions",
        json={"invoice": b, "type": "refund", "amount": 10, "parent_transaction": parent},
    )
    assert (response.status_code, response.json()["param"]) == (400, "parent_transaction")
    assert balance(api, b) == 100


def test_tx12_refunds_created_directly_respect_the_limit(api):
    _, invoice = setup(api)
    parent = created(api.post("/transactions", json={"invoice": invoice, "amount": 100}))["id"]
    created(
        api.post(
            "/transactions",
            json={"invoice": invoice, "type": "refund", "amount": 60, "parent_transaction": parent},
        )
    )
    response = api.post(
        "/transactions",
        json={"invoice": invoice, "type": "refund", "amount": 41, "parent_transaction": parent},
    )
    assert (response.status_code, response.json()["param"]) == (400, "amount")
    assert balance(api, invoice) == 60


def test_r12_a_refunded_payment_cannot_fail_or_shrink_below_its_refunds(api):
    _, invoice = setup(api)
    payment = created(api.post("/transactions", json={"invoice": invoice, "amount": 100}))["id"]
    created(api.post(f"/transactions/{payment}/refunds", json={"amount": 80}))
    failed = api.patch(f"/transactions/{payment}", json={"status": "failed"})
    assert (failed.status_code, failed.json()["param"]) == (400, "status")
    shrunk = api.patch(f"/transactions/{payment}", json={"amount": 10})
    assert (shrunk.status_code, shrunk.json()["param"]) == (400, "amount")
    assert balance(api, invoice) == 80


def test_tx12_reviving_a_failed_refund_is_checked_again(api):
    _, invoice = setup(api)
    payment = created(api.post("/transactions", json={"invoice": invoice, "amount": 100}))["id"]
    first = created(api.post(f"/transactions/{payment}/refunds", json={"amount": 100}))["id"]
    assert api.patch(f"/transactions/{first}", json={"status": "failed"}).status_code == 200
    created(api.post(f"/transactions/{payment}/refunds", json={"amount": 100}))
    revived = api.patch(f"/transactions/{first}", json={"status": "succeeded"})
    assert (revived.status_code, revived.json()["param"]) == (400, "amount")
    assert balance(api, invoice) == 100


def test_tx2_a_child_racing_its_parents_delete_never_fails(server, db_url):
    from tests.support import new_account

    key = new_account(db_url).key
    with httpx.Client(base_url=server.base_url, auth=(key, "")) as http:
        customer = http.post("/customers", json={"name": "A"}).json()["id"]
        invoice = http.post(
            "/invoices", json={"customer": customer, "items": [{"unit_cost": 100}]}
        ).json()["id"]
    for _ in range(8):
        with httpx.Client(base_url=server.base_url, auth=(key, "")) as http:
            parent = http.post("/transactions", json={"customer": customer, "amount": 30}).json()[
                "id"
            ]

        async def race(parent=parent):
            async with httpx.AsyncClient(base_url=server.base_url, auth=(key, "")) as client:
                return await asyncio.gather(
                    client.post(
                        "/transactions",
                        json={
                            "customer": customer,
                            "type": "refund",
                            "amount": 5,
                            "parent_transaction": parent,
                        },
                    ),
                    client.delete(f"/transactions/{parent}"),
                )

        child, deleted = asyncio.run(race())
        assert deleted.status_code == 204
        assert child.status_code in (201, 400), child.text
        if child.status_code == 400:
            assert child.json()["param"] == "parent_transaction"
        else:
            gone = httpx.get(f"{server.base_url}/transactions/{child.json()['id']}", auth=(key, ""))
            assert gone.status_code == 404  # deleted with its parent (TX11)
    assert (
        httpx.get(f"{server.base_url}/invoices/{invoice}", auth=(key, "")).json()["balance"] == 100
    )
