"""Crash safety (issue 7, deliverable 4): SIGKILL the server under a create-and-pay load.

16 async clients (httpx) each loop: create an issued invoice with several lines (random
quantities and unit costs, a fixed tax on some lines, a 7.25 % document tax rate), then pay part
or all of it with POST /payments (sometimes overpaying into the customer's credit balance).
Every request carries its own Idempotency-Key (README C14). Meanwhile the server
(`tally serve`, its own process group) is killed with SIGKILL at random moments, 20 times, and
restarted on the same database each time.

A request is *acknowledged* when the client got a 2xx. A request cut by a kill (connection
error) is retried after the restart with the same key and the same body, either at once or a
few iterations later; its eventual response is what it acknowledges. At the end, with every
cut request resolved, the script checks from the API (list endpoints) and directly in the
database:

- lost writes: every acknowledged customer, invoice, payment and payment split exists;
- phantom writes: nothing exists that was not acknowledged (a write that committed before the
  kill must come back through the retry of its key, never as a duplicate);
- half-written invoices: every invoice in the database has the lines that were sent, and
  lines + line taxes + document taxes sum to its total (C12, invoices.md R1-R10);
- mismatches: invoices keep the acknowledged figures, payments equal their acknowledged
  JSON, invoice balances are total minus the acknowledged splits (R12, PY9), customer credit
  balances are the acknowledged `credit` splits (CB1);
- idempotency: every request that was cut or waited on a busy key, plus a random sample of
  the others, is replayed with its key and must return the identical status and body
  (Idempotent-Replayed: true); a few replays also run right after each restart;
- no 5xx, ever (SIGKILL cannot produce one, so any 5xx is a bug).

The claim of a request killed mid-flight stays in `idempotent_requests` until its lease runs
out (IDEMPOTENCY_LEASE_SECONDS, 60 s by default); a retry before that waits or gets 409. The
script runs the server with a short lease (--lease, 2 s) so retries take over quickly, and
retries a 409 on the key until it resolves.

Usage (from the repository root):

    .venv/bin/python bench/crash_safety.py --db sqlite
    .venv/bin/python bench/crash_safety.py --db postgres \
        [--postgres-url postgresql+asyncpg://postgres@127.0.0.1:5432/tally_crash]

The PostgreSQL database (also read from CRASH_POSTGRES_URL) is created when missing and its
public schema is emptied first: give it a database of its own. Exit status 0 when every
invariant holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_db import prepare_postgres

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ENV = "CRASH_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/tally_crash"
TAX_RATE = "crash-vat"
TAX_PERCENT = Decimal("7.25")
CENT = Decimal("0.01")
QUANTITIES = ["1", "2", "3", "5", "12", "0.5", "1.25", "2.5", "0.333"]
# The two 409s of C14: a claim still running (or left by a killed worker until its lease
# expires) and a request that outlived its lease. Both executed nothing: retry the key.
RETRYABLE_409 = ("still being processed", "outlived its idempotency lease")
MAX_5XX_RETRIES = 5
MAX_ERRORS_WHILE_UP = 20


def rnd(value: Decimal) -> Decimal:
    """Round half away from zero to cents (C12)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


def cents(value: Any) -> int:
    return int(dec(value) * 100)


def number(value: Decimal) -> float:
    """A JSON number with exactly these digits (repr of a float is its shortest round trip)."""
    return float(value)


def parse(body: bytes) -> Any:
    return json.loads(body, parse_float=Decimal)


# ---------------------------------------------------------------------------------------------
# The server under test
# ---------------------------------------------------------------------------------------------


def tally_command() -> list[str]:
    script = ROOT / ".venv" / "bin" / "tally"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tally.cli"]


class Server:
    """`tally serve` in its own process group, killed with SIGKILL and restarted."""

    def __init__(self, env: dict[str, str], port: int, workers: int, log: IO[bytes]) -> None:
        self.env = env
        self.port = port
        self.workers = workers
        self.log = log
        self.base_url = f"http://127.0.0.1:{port}"
        self.process: asyncio.subprocess.Process | None = None
        self.generation = 0
        self.up = asyncio.Event()

    async def start(self) -> float:
        started = time.monotonic()
        self.log.write(f"\n===== start {self.generation + 1} =====\n".encode())
        self.log.flush()
        self.process = await asyncio.create_subprocess_exec(
            *tally_command(),
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        await self._wait_ready()
        self.generation += 1
        self.up.set()
        return time.monotonic() - started

    async def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(timeout=1) as probe:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise RuntimeError(f"server exited with {self.process.returncode}")
                try:
                    if (await probe.get(f"{self.base_url}/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError("server did not start within 60 s")

    async def kill(self) -> None:
        """SIGKILL the whole process group (uvicorn and any workers), no shutdown at all."""
        assert self.process is not None
        self.up.clear()  # before the kill: a client error seen after this is the kill's
        os.killpg(self.process.pid, signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.up.clear()
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            os.killpg(self.process.pid, signal.SIGKILL)
            await self.process.wait()


# ---------------------------------------------------------------------------------------------
# Requests and what they acknowledged
# ---------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Call:
    """One idempotent POST: sent until it gets a definitive answer, always with the same key
    and the same bytes."""

    kind: str  # tax_rate, customer, invoice, payment
    key: str
    path: str
    sent: dict[str, Any]
    body: bytes = b""
    cut: int = 0  # attempts cut by a kill (connection error)
    busy: int = 0  # 409 on the key (a killed claim's lease still running) or 429
    server_errors: int = 0
    status: int | None = None  # the acknowledged (or refused) status
    response: bytes = b""
    data: Any = None
    replayed: bool = False  # the acknowledging response was a replay of a committed write
    recorded: bool = False

    def __post_init__(self) -> None:
        self.body = json.dumps(self.sent).encode()

    @property
    def acked(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Stats:
    kills: int = 0
    restarts: list[float] = field(default_factory=list)
    in_flight_at_kill: list[int] = field(default_factory=list)
    errors_while_up: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    spot_replays: int = 0
    deferred: int = 0


class Load:
    def __init__(
        self, http: httpx.AsyncClient, server: Server, rng: random.Random, run: str, stats: Stats
    ) -> None:
        self.http = http
        self.server = server
        self.rng = rng
        self.run = run
        self.stats = stats
        self.calls: list[Call] = []
        self.in_flight = 0
        self.stop = asyncio.Event()

    async def _post(self, call: Call) -> httpx.Response:
        self.in_flight += 1
        try:
            return await self.http.post(
                call.path,
                content=call.body,
                headers={"Idempotency-Key": call.key, "Content-Type": "application/json"},
            )
        finally:
            self.in_flight -= 1

    async def deliver(self, call: Call, *, may_defer: bool = False) -> str:
        """Send until acknowledged ("acked") or refused ("refused"); with may_defer, give up
        after the first cut ("cut") so the caller retries later."""
        if not call.recorded:
            call.recorded = True
            self.calls.append(call)
        while True:
            await self.server.up.wait()
            generation = self.server.generation
            try:
                response = await self._post(call)
            except httpx.TransportError as exc:
                if self.server.up.is_set() and self.server.generation == generation:
                    # The server was up throughout: not the kill's doing.
                    self.stats.errors_while_up.append(f"{call.kind} {call.key}: {exc!r}")
                    if len(self.stats.errors_while_up) > MAX_ERRORS_WHILE_UP:
                        raise RuntimeError(
                            "too many connection errors while the server was up"
                        ) from exc
                    await asyncio.sleep(0.2)
                    continue
                call.cut += 1
                if may_defer:
                    return "cut"
                continue
            status = response.status_code
            if 200 <= status < 300:
                call.status, call.response = status, response.content
                call.data = parse(response.content)
                call.replayed = response.headers.get("idempotent-replayed") == "true"
                return "acked"
            if status == 429 or (status == 409 and any(s in response.text for s in RETRYABLE_409)):
                call.busy += 1
                await asyncio.sleep(0.25)
                continue
            if status >= 500:
                # SIGKILL cannot produce a 5xx: this is the server's own failure. The key was
                # released (nothing committed), so retrying it is safe.
                call.server_errors += 1
                self.stats.server_errors.append(
                    f"{call.kind} {call.key} -> {status} (attempt after {call.cut} cuts): "
                    f"{response.text[:300]}"
                )
                if call.server_errors <= MAX_5XX_RETRIES:
                    await asyncio.sleep(0.5)
                    continue
            call.status, call.response = status, response.content
            self.stats.refused.append(f"{call.kind} {call.key} -> {status}: {response.text[:300]}")
            return "refused"

    # -- the requests ----------------------------------------------------------------------

    def invoice_call(self, client: int, n: int, customer_id: int) -> Call:
        rng = self.rng
        items = []
        for line in range(rng.randint(2, 6)):
            item: dict[str, Any] = {
                "name": f"Line {line + 1}",
                "quantity": number(Decimal(rng.choice(QUANTITIES))),
                "unit_cost": number(Decimal(rng.randint(100, 99_999)) / 100),
            }
            if rng.random() < 0.5:
                item["taxes"] = [{"amount": number(Decimal(rng.randint(1, 900)) / 100)}]
            items.append(item)
        key = f"{self.run}-inv-{client}-{n}"
        return Call(
            "invoice",
            key,
            "/invoices",
            {
                "customer": customer_id,
                "draft": False,
                "items": items,
                "taxes": [{"tax_rate": TAX_RATE}],
                "metadata": {"crash_key": key},
            },
        )

    def payment_call(self, client: int, n: int, customer_id: int, invoice: dict[str, Any]) -> Call:
        rng = self.rng
        total = cents(invoice["total"])
        paid = total if rng.random() < 0.4 else rng.randint(1, total)
        splits: list[dict[str, Any]] = [
            {"type": "invoice", "invoice": invoice["id"], "amount": number(Decimal(paid) / 100)}
        ]
        amount = paid
        if rng.random() < 0.25:
            extra = rng.randint(1, 2_000)
            splits.append({"type": "credit", "amount": number(Decimal(extra) / 100)})
            amount += extra
        return Call(
            "payment",
            f"{self.run}-pay-{client}-{n}",
            "/payments?include=applied_to",
            {
                "customer": customer_id,
                "amount": number(Decimal(amount) / 100),
                "method": rng.choice(["check", "cash", "ach", "wire"]),
                "reference": f"crash-{client}-{n}",
                "applied_to": splits,
            },
        )

    async def client(self, index: int, customer_id: int) -> None:
        deferred: list[tuple[int, Call]] = []
        n = 0
        while not self.stop.is_set():
            n += 1
            for due, call in [d for d in deferred if d[0] <= n]:
                deferred.remove((due, call))
                await self.deliver(call)
            invoice = self.invoice_call(index, n, customer_id)
            if await self.deliver(invoice) != "acked":
                continue
            payment = self.payment_call(index, n, customer_id, invoice.data)
            # Half of the payments cut by a kill are retried a few iterations later, after
            # other writes (and maybe other kills); the others at once.
            defer = self.rng.random() < 0.5
            if await self.deliver(payment, may_defer=defer) == "cut":
                deferred.append((n + self.rng.randint(1, 6), payment))
                self.stats.deferred += 1
        for _, call in deferred:
            await self.deliver(call)

    async def replay(self, call: Call) -> str | None:
        """Send an answered request again: the stored response must come back unchanged."""
        while True:
            await self.server.up.wait()
            try:
                response = await self._post(call)
            except httpx.TransportError as exc:
                if self.server.up.is_set():
                    return f"replay {call.key}: {exc!r}"
                continue
            if response.status_code == 429:
                await asyncio.sleep(0.1)
                continue
            problems = []
            if response.status_code != call.status:
                problems.append(f"status {response.status_code} != {call.status}")
            if response.content != call.response:
                problems.append(f"body {response.text[:300]!r} != {call.response[:300]!r}")
            if response.headers.get("idempotent-replayed") != "true":
                problems.append("not marked Idempotent-Replayed")
            return f"replay {call.kind} {call.key}: " + "; ".join(problems) if problems else None


# ---------------------------------------------------------------------------------------------
# Crashes
# ---------------------------------------------------------------------------------------------


async def crash_loop(args: argparse.Namespace, load: Load, rng: random.Random) -> list[str]:
    problems: list[str] = []
    server, stats = load.server, load.stats
    for _ in range(args.kills):
        # Mostly a few seconds of load; sometimes soon after the restart, in the retry storm.
        if rng.random() < 0.2:
            pause = rng.uniform(0.2, 1.0)
        else:
            pause = rng.uniform(args.min_up, args.max_up)
        await asyncio.sleep(pause)
        stats.in_flight_at_kill.append(load.in_flight)
        await server.kill()
        stats.kills += 1
        await asyncio.sleep(rng.uniform(0.0, 0.5))
        stats.restarts.append(await server.start())
        answered = [c for c in load.calls if c.acked]
        for call in rng.sample(answered, min(4, len(answered))):
            stats.spot_replays += 1
            if problem := await load.replay(call):
                problems.append(f"after restart {server.generation}: {problem}")
    await asyncio.sleep(args.settle)
    load.stop.set()
    return problems


# ---------------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------------


@dataclass
class Findings:
    lost: list[str] = field(default_factory=list)
    phantom: list[str] = field(default_factory=list)
    half_written: list[str] = field(default_factory=list)
    mismatch: list[str] = field(default_factory=list)
    replay: list[str] = field(default_factory=list)
    replays_checked: int = 0
    dangling_claims: int = 0


async def list_all(http: httpx.AsyncClient, path: str, **params: str) -> dict[int, Any]:
    found: dict[int, Any] = {}
    page, expected = 1, None
    while True:
        r = await http.get(path, params={**params, "per_page": "100", "page": str(page)})
        r.raise_for_status()
        expected = int(r.headers["X-Total-Count"])
        rows = parse(r.content)
        for row in rows:
            if row["id"] in found:
                raise RuntimeError(f"{path}: id {row['id']} listed twice")
            found[row["id"]] = row
        if not rows or len(found) >= expected:
            break
        page += 1
    if len(found) != expected:
        raise RuntimeError(f"{path}: listed {len(found)}, X-Total-Count {expected}")
    return found


def invoice_problems(invoice: dict[str, Any], sent: dict[str, Any]) -> list[str]:
    """Lines, taxes and total as sent, and summing up (R1, R4, R4a, R7, R10)."""
    problems = []
    items = invoice["items"]
    if len(items) != len(sent["items"]):
        problems.append(f"{len(items)} lines, {len(sent['items'])} sent")
    subtotal = line_taxes = Decimal(0)
    for position, (item, want) in enumerate(zip(items, sent["items"], strict=False), 1):
        quantity, unit_cost = dec(item["quantity"]), dec(item["unit_cost"])
        if (quantity, unit_cost) != (dec(want["quantity"]), dec(want["unit_cost"])):
            problems.append(f"line {position} is {quantity} x {unit_cost}, sent {want}")
        if dec(item["amount"]) != rnd(quantity * unit_cost):
            problems.append(f"line {position} amount {item['amount']} != {quantity} x {unit_cost}")
        taxes = [dec(t["amount"]) for t in item["taxes"]]
        if taxes != [dec(t["amount"]) for t in want.get("taxes", [])]:
            problems.append(f"line {position} taxes {taxes}, sent {want.get('taxes')}")
        subtotal += dec(item["amount"])
        line_taxes += sum(taxes, Decimal(0))
    if dec(invoice["subtotal"]) != subtotal:
        problems.append(f"subtotal {invoice['subtotal']} != sum of lines {subtotal}")
    document_taxes = [dec(t["amount"]) for t in invoice["taxes"]]
    if document_taxes != [rnd(subtotal * TAX_PERCENT / 100)]:
        problems.append(f"document taxes {document_taxes} on a subtotal of {subtotal}")
    total = subtotal + line_taxes + sum(document_taxes, Decimal(0))
    if dec(invoice["total"]) != total:
        problems.append(f"total {invoice['total']} != lines + taxes {total}")
    return problems


# Invoice fields a payment changes (R12-R14, U2); everything else must stay as acknowledged.
MOVES_WITH_PAYMENTS = {"balance", "paid", "closed", "status", "payment_url", "updated_at"}


def differences(got: dict[str, Any], acked: dict[str, Any], skip: Iterable[str] = ()) -> list[str]:
    ignored = set(skip)
    keys = (set(got) | set(acked)) - ignored
    return sorted(k for k in keys if got.get(k, "<missing>") != acked.get(k, "<missing>"))


async def verify(load: Load, http: httpx.AsyncClient, url: str, sample: int) -> Findings:
    found = Findings()
    acked = [c for c in load.calls if c.acked]
    invoices = {c.data["id"]: c for c in acked if c.kind == "invoice"}
    payments = {c.data["id"]: c for c in acked if c.kind == "payment"}
    customers = {c.data["id"]: c for c in acked if c.kind == "customer"}

    # What the acknowledged payments say must have happened.
    paid_to: dict[int, Decimal] = defaultdict(Decimal)
    credited: dict[int, Decimal] = defaultdict(Decimal)
    split_ids: dict[int, tuple[int, str, Decimal]] = {}
    for pid, call in payments.items():
        data, sent = call.data, call.sent
        if dec(data["amount"]) != dec(sent["amount"]) or data["voided"] or data["balance"] != 0:
            found.mismatch.append(f"payment {pid} acknowledged as {data}, sent {sent}")
        got_splits = [(s["type"], s.get("invoice"), dec(s["amount"])) for s in data["applied_to"]]
        want_splits = [(s["type"], s.get("invoice"), dec(s["amount"])) for s in sent["applied_to"]]
        if got_splits != want_splits:
            found.mismatch.append(f"payment {pid} splits {got_splits}, sent {want_splits}")
        for split in data["applied_to"]:
            split_ids[split["id"]] = (pid, split["type"], dec(split["amount"]))
            if split["type"] == "invoice":
                paid_to[split["invoice"]] += dec(split["amount"])
            elif split["type"] == "credit":
                credited[data["customer"]] += dec(split["amount"])

    # -- through the API -------------------------------------------------------------------
    listed_invoices = await list_all(http, "/invoices")
    listed_payments = await list_all(http, "/payments", include="applied_to")
    listed_customers = await list_all(http, "/customers")

    for iid, call in invoices.items():
        if (problems := invoice_problems(call.data, call.sent)) != []:
            found.half_written.append(f"invoice {iid} as acknowledged: {problems}")
        invoice = listed_invoices.get(iid)
        if invoice is None:
            found.lost.append(f"invoice {iid} ({call.key}) acknowledged, not listed")
            continue
        if changed := differences(invoice, call.data, MOVES_WITH_PAYMENTS):
            found.mismatch.append(f"invoice {iid} changed {changed} since acknowledged")
        if problems := invoice_problems(invoice, call.sent):
            found.half_written.append(f"invoice {iid}: {problems}")
        balance = dec(invoice["total"]) - paid_to[iid]
        paid = balance == 0
        if (
            dec(invoice["balance"]) != balance
            or (invoice["paid"], invoice["closed"], invoice["payment_url"] is None) != (paid,) * 3
        ):
            found.mismatch.append(
                f"invoice {iid} balance {invoice['balance']} paid={invoice['paid']} "
                f"closed={invoice['closed']} payment_url={invoice['payment_url']}, expected "
                f"{balance} (total {invoice['total']} - acknowledged payments {paid_to[iid]})"
            )
    for iid in listed_invoices.keys() - invoices.keys():
        crash_key = listed_invoices[iid]["metadata"].get("crash_key")
        found.phantom.append(f"invoice {iid} (key {crash_key}) listed, never acknowledged")

    for pid, call in payments.items():
        payment = listed_payments.get(pid)
        if payment is None:
            found.lost.append(f"payment {pid} ({call.key}) acknowledged, not listed")
        elif changed := differences(payment, call.data):
            found.mismatch.append(f"payment {pid} changed {changed} since acknowledged")
    for pid in listed_payments.keys() - payments.keys():
        found.phantom.append(f"payment {pid} {listed_payments[pid]} never acknowledged")

    for cid, call in customers.items():
        customer = listed_customers.get(cid)
        if customer is None:
            found.lost.append(f"customer {cid} ({call.key}) acknowledged, not listed")
        elif dec(customer["credit_balance"]) != credited[cid]:
            found.mismatch.append(
                f"customer {cid} credit_balance {customer['credit_balance']}, acknowledged "
                f"credit splits {credited[cid]}"
            )
    for cid in listed_customers.keys() - customers.keys():
        found.phantom.append(f"customer {cid} listed, never acknowledged")

    # -- in the database: every row, acknowledged or not -------------------------------------
    engine = create_async_engine(url)
    try:
        async with engine.connect() as db:
            rows = await db.execute(
                text(
                    "SELECT i.id, i.subtotal, i.total, i.amount_paid, i.balance,"
                    " (SELECT count(*) FROM line_items l WHERE l.invoice_id = i.id),"
                    " (SELECT coalesce(sum(l.amount), 0) FROM line_items l"
                    "   WHERE l.invoice_id = i.id),"
                    " (SELECT coalesce(sum(r.amount), 0) FROM applied_rates r"
                    "   WHERE r.invoice_id = i.id AND r.kind = 'tax'),"
                    " (SELECT coalesce(sum(t.amount), 0) FROM transactions t"
                    "   WHERE t.invoice_id = i.id)"
                    " FROM invoices i"
                )
            )
            stored_invoices = set()
            for iid, subtotal, total, amount_paid, balance, lines, line_sum, taxes, tx in rows:
                stored_invoices.add(iid)
                problems = []
                call = invoices.get(iid)
                if call is not None and lines != len(call.sent["items"]):
                    problems.append(f"{lines} line rows, {len(call.sent['items'])} sent")
                if lines == 0 or subtotal != line_sum:
                    problems.append(f"{lines} line rows summing to {line_sum}, subtotal {subtotal}")
                if total != subtotal + taxes:
                    problems.append(f"total {total} != subtotal {subtotal} + taxes {taxes}")
                if amount_paid != tx or balance != total - amount_paid:
                    problems.append(
                        f"amount_paid {amount_paid}, transactions {tx}, balance {balance}"
                    )
                if call is not None and amount_paid != cents(paid_to[iid]):
                    problems.append(f"amount_paid {amount_paid} != acknowledged {paid_to[iid]}")
                if problems:
                    found.half_written.append(f"invoice row {iid}: {problems}")
            for iid in invoices.keys() - stored_invoices:
                found.lost.append(f"invoice {iid} acknowledged, no row")
            for iid in stored_invoices - invoices.keys():
                found.phantom.append(f"invoice row {iid} never acknowledged")

            payment_rows = {
                pid: (amount, balance, voided)
                for pid, amount, balance, voided in await db.execute(
                    text("SELECT id, amount, balance, voided FROM payments")
                )
            }
            for pid, call in payments.items():
                if pid not in payment_rows:
                    found.lost.append(f"payment {pid} acknowledged, no row")
                elif payment_rows[pid] != (cents(call.data["amount"]), 0, False):
                    found.mismatch.append(f"payment row {pid} is {payment_rows[pid]}")
            for pid in payment_rows.keys() - payments.keys():
                found.phantom.append(f"payment row {pid} {payment_rows[pid]} never acknowledged")

            tx_rows = {
                tid: (pid, kind, amount)
                for tid, pid, kind, amount in await db.execute(
                    text("SELECT id, payment_id, type, amount FROM transactions")
                )
            }
            for tid, (pid, kind, amount) in split_ids.items():
                row = tx_rows.get(tid)
                expected = cents(amount) if kind == "invoice" else -cents(amount)
                if row is None:
                    found.lost.append(f"split transaction {tid} of payment {pid}, no row")
                elif (row[0], row[2]) != (pid, expected):
                    found.mismatch.append(f"transaction {tid} is {row}, split of {pid} {amount}")
            for tid in tx_rows.keys() - split_ids.keys():
                found.phantom.append(f"transaction row {tid} {tx_rows[tid]} never acknowledged")

            found.dangling_claims = int(
                await db.scalar(
                    text("SELECT count(*) FROM idempotent_requests WHERE response_status IS NULL")
                )
                or 0
            )
    finally:
        await engine.dispose()

    # -- idempotent replays ----------------------------------------------------------------
    answered = [c for c in load.calls if c.status is not None]
    troubled = [c for c in answered if c.cut or c.busy or c.server_errors]
    others = [c for c in answered if not (c.cut or c.busy or c.server_errors)]
    chosen = troubled + load.rng.sample(others, min(sample, len(others)))
    gate = asyncio.Semaphore(16)

    async def one(call: Call) -> str | None:
        async with gate:
            return await load.replay(call)

    results = await asyncio.gather(*(one(c) for c in chosen))
    found.replay = [r for r in results if r]
    found.replays_checked = len(chosen)
    return found


# ---------------------------------------------------------------------------------------------
# Setup and the run
# ---------------------------------------------------------------------------------------------


def create_account(env: dict[str, str]) -> str:
    """Migrate, then create the account and key the clients use (the `tally` CLI)."""
    for command in (["migrate"], ["accounts", "create", "--name", "Crash Bench"]):
        done = subprocess.run(
            [*tally_command(), *command], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"tally {' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    match = re.search(r"API key \d+: (\S+)", done.stdout)
    if match is None:
        raise SystemExit(f"no API key in: {done.stdout}")
    return match.group(1)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def count_tracebacks(log_path: Path) -> int:
    return log_path.read_text(errors="replace").count("Traceback (most recent call last)")


async def run(
    args: argparse.Namespace, url: str, key: str, env: dict[str, str], log: IO[bytes]
) -> int:
    rng = random.Random(args.seed)
    stats = Stats()
    log_path = Path(log.name)
    started = time.monotonic()
    server = Server(env, free_port(), args.workers, log)
    limits = httpx.Limits(max_keepalive_connections=0)  # no connection outlives a kill
    async with httpx.AsyncClient(
        base_url=server.base_url, auth=(key, ""), timeout=30, limits=limits
    ) as http:
        load = Load(http, server, rng, f"{rng.getrandbits(32):08x}", stats)
        try:
            await server.start()
            tax_rate = Call(
                "tax_rate",
                f"{load.run}-tax",
                "/tax_rates",
                {"id": TAX_RATE, "name": "Crash VAT", "value": number(TAX_PERCENT)},
            )
            if await load.deliver(tax_rate) != "acked":
                raise SystemExit(f"could not create the tax rate: {tax_rate.response!r}")
            customer_ids = []
            for index in range(args.clients):
                call = Call(
                    "customer", f"{load.run}-cust-{index}", "/customers", {"name": f"C{index}"}
                )
                if await load.deliver(call) != "acked":
                    raise SystemExit(f"could not create a customer: {call.response!r}")
                customer_ids.append(call.data["id"])

            clients = [
                asyncio.create_task(load.client(index, cid))
                for index, cid in enumerate(customer_ids)
            ]
            spot_problems = await crash_loop(args, load, rng)
            await asyncio.gather(*clients)
            load_seconds = time.monotonic() - started
            findings = await verify(load, http, url, args.replay_sample)
            findings.replay[:0] = spot_problems
        finally:
            await server.stop()
    elapsed = time.monotonic() - started
    tracebacks = count_tracebacks(log_path)

    acked = [c for c in load.calls if c.acked]
    cut = [c for c in load.calls if c.cut]
    failures = {
        "lost acknowledged writes": findings.lost,
        "phantom writes": findings.phantom,
        "half-written invoices": findings.half_written,
        "mismatches": findings.mismatch,
        "idempotent replay mismatches": findings.replay,
        "5xx responses": stats.server_errors,
        "refused requests (4xx)": stats.refused,
    }
    width = 44

    def line(label: str, value: object) -> None:
        print(f"  {label:<{width}} {value}")

    safe_url = make_url(url).render_as_string(hide_password=True)
    print(f"\nCrash safety on {args.db} ({safe_url}), seed {args.seed}")
    line("clients", args.clients)
    line("server workers", args.workers)
    line("kills (SIGKILL to the process group)", stats.kills)
    line(
        "requests in flight at the kills",
        f"{sum(stats.in_flight_at_kill)} "
        f"(min {min(stats.in_flight_at_kill, default=0)}, "
        f"max {max(stats.in_flight_at_kill, default=0)} per kill)",
    )
    line(
        "restart time",
        f"mean {sum(stats.restarts) / max(1, len(stats.restarts)):.2f} s, "
        f"max {max(stats.restarts, default=0):.2f} s",
    )
    line("acknowledged invoices", sum(c.kind == "invoice" for c in acked))
    line("acknowledged payments", sum(c.kind == "payment" for c in acked))
    line(
        "acknowledged customers and tax rates",
        sum(c.kind in ("customer", "tax_rate") for c in acked),
    )
    line(
        "requests cut by a kill, retried with same key",
        f"{len(cut)} ({sum(c.cut for c in cut)} cut attempts)",
    )
    line("  of which had committed (replayed on retry)", sum(c.replayed for c in cut))
    line("  of which ran again (nothing had committed)", sum(not c.replayed for c in cut))
    line("  of which retried a few iterations later", stats.deferred)
    line("409/429 retries on a busy key", sum(c.busy for c in load.calls))
    line("idempotent replays checked", f"{findings.replays_checked + stats.spot_replays}")
    line("connection errors while the server was up", len(stats.errors_while_up))
    line("claims left without a response", findings.dangling_claims)
    line("server tracebacks in the log", tracebacks)
    for label, problems in failures.items():
        line(label, len(problems))
    line("load time / total elapsed", f"{load_seconds:.1f} s / {elapsed:.1f} s")
    line("server log", log_path)

    failed = any(failures.values()) or stats.kills != args.kills or tracebacks > 0
    for label, problems in failures.items():
        for problem in problems[:10]:
            print(f"  ! {label}: {problem}")
    for problem in stats.errors_while_up[:5]:
        print(f"  ? connection error while up: {problem}")
    print("RESULT:", "FAIL" if failed else "PASS")
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES_URL),
        help=f"emptied first; also ${POSTGRES_ENV} (default {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument("--sqlite-path", help="default: a new temporary file")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--min-up", type=float, default=1.5, help="seconds of load between kills")
    parser.add_argument("--max-up", type=float, default=5.0)
    parser.add_argument("--settle", type=float, default=2.0, help="load after the last restart")
    parser.add_argument("--lease", type=float, default=2.0, help="IDEMPOTENCY_LEASE_SECONDS")
    parser.add_argument(
        "--replay-sample", type=int, default=1000, help="untroubled requests replayed at the end"
    )
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1_000_000)

    if args.db == "postgres":
        url = args.postgres_url
        asyncio.run(prepare_postgres(url))
    else:
        path = Path(args.sqlite_path or Path(tempfile.mkdtemp(prefix="tally-crash-")) / "crash.db")
        if path.exists():
            raise SystemExit(f"{path} exists: the run needs an empty database")
        url = f"sqlite+aiosqlite:///{path}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "IDEMPOTENCY_LEASE_SECONDS": str(args.lease),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("TEST_MODE", None)
    key = create_account(env)
    with tempfile.NamedTemporaryFile(
        prefix=f"tally-crash-{args.db}-", suffix=".log", delete=False
    ) as log:
        status = asyncio.run(run(args, url, key, env, log))
    sys.exit(status)


if __name__ == "__main__":
    main()
