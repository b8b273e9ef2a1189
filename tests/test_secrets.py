"""API keys never appear in logs or error messages beyond their scrubbed form (README C2.6;
issue 7, deliverable 6).

A real server's whole output (access log, errors, a 500's report) is read after requests made
with a valid key, an unknown key, the key as a Bearer token, the key as a Basic password, and
the key inside a URL and a body: no line may contain the secret.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support import ServerProcess, new_account

UNKNOWN = "sk_live_0123456789abcdefghijklmnopqrstuvwxyz"


def test_c2_6_keys_never_reach_the_server_log(db_url):
    server = ServerProcess(db_url)
    try:
        account = new_account(db_url)
        secret = account.key
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            ok = http.post("/customers", auth=(secret, ""), json={"name": "Logged"})
            assert ok.status_code == 201
            bearer = http.get("/customers", headers={"Authorization": f"Bearer {secret}"})
            assert bearer.status_code == 200
            password = http.get("/customers", auth=(account.username, secret))
            assert password.status_code == 200
            unknown = http.get("/customers", auth=(UNKNOWN, ""))
            assert unknown.status_code == 401
            assert UNKNOWN not in unknown.text  # only its scrubbed form (C2.6)
            # A key pasted into a body that is refused is not echoed back.
            bad = http.post("/customers", auth=(secret, ""), content=f'{{"name": {secret}')
            assert bad.status_code == 400
            assert secret not in bad.text
    finally:
        server.stop()
    output = Path(server.log.name).read_text()
    assert "POST /customers" in output  # the access log was written, so it was checked
    assert UNKNOWN not in output
    assert secret not in output


def test_security_headers_on_every_response(api, app_client):
    """Issue 7: no MIME sniffing, no framing, no referrer, on API responses, errors, the
    health check and the docs alike (customer-facing pages add their own CSP)."""
    responses = [
        api.post("/customers", json={"name": "Acme"}),
        api.get("/customers/999999"),
        app_client.get("/customers"),  # 401
        app_client.get("/health"),
        app_client.get("/openapi.json"),
    ]
    for response in responses:
        assert response.headers["X-Content-Type-Options"] == "nosniff", response.status_code
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
