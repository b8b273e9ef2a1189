"""Performance bench (issue 6): tally against a "ceiling" app doing the same database work.

For each scenario, the script starts `tally serve --workers N` (the production entry point,
RATE_LIMIT_CONCURRENCY=0 so the bench is not throttled) and bench/ceiling_app.py under
uvicorn with the same worker count and HTTP protocol (h11), on a freshly seeded dedicated
database, and drives each in turn from a separate load-generator process (async httpx, one
connection per client). It prints, per scenario and app: throughput (successful requests/s),
p50 and p99 latency, error count (non-2xx or transport errors) and the peak RSS of the
busiest worker process (sampled from /proc while the load runs), then tally's figures as
ratios to the ceiling's (throughput: tally / ceiling, so < 1 is slower; latency and memory:
tally / ceiling, so > 1 is slower / bigger).

Scenarios:
  B1   create an invoice with 10 lines, 2 tax rates and a discount, 1 client  (B1x1)
       and 16 clients (B1x16)
  B2   retrieve an invoice with expand=customer, 8 clients
  B3   list 100 invoices with filter[status]=not_sent, filter[customer], sort=date desc:
       first page (B3first) and last full page (B3deep), 8 clients
  B4   32 clients posting 0.01 partial payments to one hot invoice (B4hot) and to 1,000
       random invoices (B4spread); afterwards every invoice's amount_paid must equal the sum
       of its payment transactions and its balance total - amount_paid

Both apps run on the same database, one after the other (tally first), so write scenarios
see the rows the previous run wrote. Seeding goes through tally's API with 32 concurrent
clients: `--scale small` (200 customers, 2,000 invoices) takes seconds, `--scale full` (10k
customers, 100k invoices of 1-20 lines) takes minutes. A fifth of the invoices belong to one
"big" customer, so the B3 filter returns several pages.

Usage (from the repository root):
    .venv/bin/python bench/perf.py --db postgres --scenarios B2,B1 --duration 10 \
        --workers 2 --scale small [--postgres-url postgresql+asyncpg://...]
    .venv/bin/python bench/perf.py --db sqlite --scenarios B1,B2,B3,B4 --workers 1
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_db import prepare_postgres
from seed_sql import create_rates, seed_sql, verify

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/tally_bench"
SCALES = {"small": (200, 2_000), "full": (10_000, 100_000)}
SEED_CLIENTS = 32
WARMUP_SECONDS = 1.0
SCENARIO_GROUPS = {
    "B1": ["B1x1", "B1x16"],
    "B2": ["B2"],
    "B3": ["B3first", "B3deep"],
    "B4": ["B4hot", "B4spread"],
    "B5": ["B5x1", "B5x4"],
}
CLIENTS = {
    "B1x1": 1,
    "B1x16": 16,
    "B2": 8,
    "B3first": 8,
    "B3deep": 8,
    "B4hot": 32,
    "B4spread": 32,
    "B5x1": 1,
    "B5x4": 4,
}
SOAK_CLIENTS = 8
SOAK_SAMPLE_SECONDS = 2.0


# ---------------------------------------------------------------------------------------------
# Database and processes
# ---------------------------------------------------------------------------------------------


def tally(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "tally"), *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"tally {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(p) for p in handle.read().split()]
    except OSError:
        return found
    return found + [grand for child in found for grand in children(child)]


def status_kb(pid: int, field_name: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class App:
    """One HTTP server (tally or the ceiling) in its own process group."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: IO[bytes]):
        self.name = name
        self.command = command
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, port: int) -> str:
        self.base_url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [*self.command, "--port", str(port)],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return self.base_url
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"{self.name} did not start within 60 s")

    def workers(self) -> list[int]:
        """The worker processes: uvicorn's children that run the app (not its helpers)."""
        assert self.process is not None
        pids = children(self.process.pid)
        workers = [p for p in pids if "multiprocessing.resource_tracker" not in cmdline(p)]
        return workers or [self.process.pid]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class RssSampler(threading.Thread):
    """Peak RSS per worker while the load runs (VmRSS sampled, plus VmHWM at the end)."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.peak = dict.fromkeys(pids, 0)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.1):
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], status_kb(pid, "VmRSS"))

    def finish(self) -> dict[int, int]:
        self.done.set()
        self.join()
        for pid in self.pids:
            self.peak[pid] = max(self.peak[pid], status_kb(pid, "VmHWM"))
        return self.peak


# ---------------------------------------------------------------------------------------------
# Seeding (through tally's API)
# ---------------------------------------------------------------------------------------------


@dataclass
class Seed:
    key: str
    customers: list[int] = field(default_factory=list)
    invoices: list[tuple[int, int]] = field(default_factory=list)  # (invoice id, customer id)
    payable: list[tuple[int, int]] = field(default_factory=list)  # open, balance to pay
    ten_line: list[int] = field(default_factory=list)  # invoices with exactly 10 lines
    big_customer: int = 0
    big_count: int = 0  # the big customer's not_sent invoices (X-Total-Count of B3's list)


def invoice_body(customer: int, lines: int, rng: random.Random) -> dict[str, Any]:
    return {
        "customer": customer,
        "draft": False,
        "items": [
            {
                "name": f"Line {n + 1}",
                "quantity": rng.choice([1, 2, 3, 5, 12]),
                "unit_cost": rng.randint(1_000, 99_999) / 100,
            }
            for n in range(lines)
        ],
        "taxes": [{"tax_rate": "bench-vat"}, {"tax_rate": "bench-state"}],
        "discounts": [{"coupon": "bench-ten"}],
    }


async def seed(base_url: str, key: str, scale: str) -> Seed:
    n_customers, n_invoices = SCALES[scale]
    rng = random.Random(6)
    result = Seed(key)
    async with httpx.AsyncClient(base_url=base_url, auth=(key, ""), timeout=60) as http:

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = await http.post(path, json=body)
            if response.status_code != 201:
                raise SystemExit(f"seeding {path} failed: {response.status_code} {response.text}")
            data: dict[str, Any] = response.json()
            return data

        await create_rates(http)

        async def pool(jobs: list[Any], work: Any) -> list[Any]:
            out: list[Any] = [None] * len(jobs)
            cursor = iter(range(len(jobs)))

            async def worker() -> None:
                for index in cursor:
                    out[index] = await work(jobs[index])

            await asyncio.gather(*(worker() for _ in range(SEED_CLIENTS)))
            return out

        customers = await pool(
            list(range(n_customers)),
            lambda n: post("/customers", {"name": f"Customer {n}", "email": f"c{n}@example.com"}),
        )
        result.customers = [c["id"] for c in customers]
        result.big_customer = result.customers[0]
        owners = [
            result.big_customer if rng.random() < 0.2 else rng.choice(result.customers)
            for _ in range(n_invoices)
        ]
        bodies = [invoice_body(owner, rng.randint(1, 20), rng) for owner in owners]
        started = time.monotonic()
        invoices = await pool(bodies, lambda body: post("/invoices", body))
        result.invoices = [(i["id"], i["customer"]) for i in invoices]
        result.payable = result.invoices
        result.ten_line = [i["id"] for i in invoices if len(i["items"]) == 10]
        elapsed = time.monotonic() - started
        print(f"  seeded {n_customers} customers, {n_invoices} invoices in {elapsed:.1f} s")
    return result


async def seed_with_sql(base_url: str, key: str, url: str, scale: str) -> Seed:
    n_customers, n_invoices = SCALES[scale]
    seeded = await seed_sql(base_url, key, url, customers=n_customers, invoices=n_invoices)
    problems = await verify(base_url, key, seeded) + await payment_invariants(url)
    print(f"  seed check through the API: {'OK' if not problems else problems[:10]}")
    if problems:
        raise SystemExit("the SQL seed does not read back as tally would have written it")
    return Seed(
        key,
        customers=seeded.customers,
        invoices=seeded.invoices,
        payable=seeded.payable,
        ten_line=seeded.ten_line,
        big_customer=seeded.big_customer,
    )


async def count_listing(base_url: str, seed: Seed) -> int:
    """X-Total-Count of B3's listing, through tally (so B3deep asks for the real last page)."""
    async with httpx.AsyncClient(base_url=base_url, auth=(seed.key, ""), timeout=60) as http:
        response = await http.get(
            "/invoices",
            params={
                "filter[status]": "not_sent",
                "filter[customer]": str(seed.big_customer),
                "per_page": "1",
            },
        )
        response.raise_for_status()
        return int(response.headers["X-Total-Count"])


# ---------------------------------------------------------------------------------------------
# The load generator (a separate process)
# ---------------------------------------------------------------------------------------------


def requests_for(scenario: str, seed: Seed, rng: random.Random) -> Any:
    """A function returning (method, path, params, json body, headers) for the next request."""
    b1 = invoice_body(seed.big_customer, 10, rng)
    hot = seed.payable[0]
    spread = rng.sample(seed.payable, min(1_000, len(seed.payable)))
    pdf = {"Accept": "application/pdf"}
    last_page = max(1, seed.big_count // 100)
    listing = {
        "filter[status]": "not_sent",
        "filter[customer]": str(seed.big_customer),
        "sort": "date desc",
        "per_page": "100",
    }

    def payment(target: tuple[int, int]) -> dict[str, Any]:
        invoice, customer = target
        return {
            "customer": customer,
            "amount": 0.01,
            "method": "check",
            "applied_to": [{"type": "invoice", "invoice": invoice, "amount": 0.01}],
        }

    def next_request() -> tuple[
        str, str, dict[str, str] | None, dict[str, Any] | None, dict[str, str] | None
    ]:
        if scenario.startswith("B1"):
            return "POST", "/invoices", None, {**b1, "customer": rng.choice(seed.customers)}, None
        if scenario == "B2":
            invoice = rng.choice(seed.invoices)[0]
            return "GET", f"/invoices/{invoice}", {"expand": "customer"}, None, None
        if scenario == "B3first":
            return "GET", "/invoices", {**listing, "page": "1"}, None, None
        if scenario == "B3deep":
            return "GET", "/invoices", {**listing, "page": str(last_page)}, None, None
        if scenario == "B4hot":
            return "POST", "/payments", None, payment(hot), None
        if scenario.startswith("B5"):
            return "GET", f"/invoices/{rng.choice(seed.ten_line)}", None, None, pdf
        return "POST", "/payments", None, payment(rng.choice(spread)), None

    return next_request


async def drive(
    base_url: str,
    scenario: str,
    seed: Seed,
    clients: int,
    duration: float,
    total: int = 0,
    progress: Any = None,
) -> dict[str, Any]:
    """Load for `duration` seconds after a warm-up; with `total`, exactly that many requests
    instead (no warm-up), counting them in the shared `progress` value as they complete."""
    rng = random.Random(scenario)
    next_request = requests_for(scenario, seed, rng)
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base_url, auth=(seed.key, ""), timeout=60, limits=limits
    ) as http:
        start = time.monotonic()
        # A PDF worker's first render sets up WeasyPrint (fonts, stylesheets): warm up longer.
        warmup = 3 * WARMUP_SECONDS if scenario.startswith("B5") else WARMUP_SECONDS
        measure_from = start + (0 if total else warmup)
        stop_at = float("inf") if total else measure_from + duration
        budget = iter(range(total)) if total else None
        pdf = scenario.startswith("B5")

        async def client() -> None:
            while (now := time.monotonic()) < stop_at:
                if budget is not None and next(budget, None) is None:
                    return
                method, path, params, body, headers = next_request()
                try:
                    response = await http.request(
                        method, path, params=params, json=body, headers=headers
                    )
                    ok = response.is_success and (not pdf or response.content.startswith(b"%PDF-"))
                    problem = f"{response.status_code} {response.text[:160]}"
                except httpx.TransportError as exc:
                    ok, problem = False, repr(exc)
                end = time.monotonic()
                if progress is not None:
                    with progress.get_lock():
                        progress.value += 1
                if now >= measure_from:
                    if ok:
                        latencies.append(end - now)
                    else:
                        errors.append(problem)

        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.monotonic() - measure_from
    latencies.sort()

    def percentile(p: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "throughput": len(latencies) / elapsed,
        "p50": percentile(0.50),
        "p99": percentile(0.99),
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:3],
        "requests": len(latencies),
    }


def load_process(args: tuple[Any, ...], queue: Any, progress: Any = None) -> None:
    queue.put(asyncio.run(drive(*args, progress=progress)))


def run_load(
    base_url: str,
    scenario: str,
    seed: Seed,
    duration: float,
    *,
    clients: int = 0,
    total: int = 0,
    on_progress: Any = None,
) -> dict[str, Any]:
    """Run the load generator in its own process; `on_progress(count)` is called every
    SOAK_SAMPLE_SECONDS with the number of requests done so far (for the soak run)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    progress = context.Value("q", 0)
    process = context.Process(
        target=load_process,
        args=((base_url, scenario, seed, clients or CLIENTS[scenario], duration, total), queue),
        kwargs={"progress": progress},
    )
    process.start()
    while on_progress is not None and process.is_alive() and queue.empty():
        on_progress(progress.value)
        time.sleep(SOAK_SAMPLE_SECONDS)
    result: dict[str, Any] = queue.get()
    process.join()
    if on_progress is not None:
        on_progress(progress.value)
    return result


# ---------------------------------------------------------------------------------------------
# Invariants after B4
# ---------------------------------------------------------------------------------------------


async def payment_invariants(url: str) -> list[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT i.id, i.total, i.amount_paid, i.balance, "
                        "COALESCE(SUM(t.amount), 0) FROM invoices i "
                        "LEFT JOIN transactions t ON t.invoice_id = i.id "
                        "AND t.status = 'succeeded' AND t.type = 'payment' "
                        "GROUP BY i.id, i.total, i.amount_paid, i.balance"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    problems = []
    for invoice, total, paid, balance, paid_sum in rows:
        if paid != paid_sum or balance != total - paid:
            problems.append(
                f"invoice {invoice}: total {total} amount_paid {paid} balance {balance}, "
                f"payments sum {paid_sum}"
            )
    return problems


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def soak(app: App, seed: Seed, total: int) -> None:
    """The memory-flat run: `total` B2 requests to tally, each worker's RSS sampled."""
    base = app.start(free_port())
    pids = app.workers()
    samples: list[tuple[int, dict[int, int]]] = []

    def sample(done: int) -> None:
        samples.append((done, {pid: status_kb(pid, "VmRSS") for pid in pids}))

    print(f"  soak: {total} B2 requests, {SOAK_CLIENTS} clients, workers {pids}")
    started = time.monotonic()
    try:
        result = run_load(
            base, "B2", seed, 0, clients=SOAK_CLIENTS, total=total, on_progress=sample
        )
        peaks = {pid: status_kb(pid, "VmHWM") for pid in pids}
    finally:
        app.stop()
    elapsed = time.monotonic() - started
    print(
        f"  {result['requests']} ok, {result['errors']} errors in {elapsed:.0f} s "
        f"({result['requests'] / elapsed:.0f} req/s), p50 {result['p50']:.1f} ms, "
        f"p99 {result['p99']:.1f} ms"
    )
    for error in result["error_samples"]:
        print(f"      error: {error}")

    def at(fraction: float) -> dict[int, int]:
        goal = fraction * total
        return next((rss for done, rss in samples if done >= goal), samples[-1][1])

    marks = {f"{round(f * 100)}%": at(f) for f in (0.1, 0.5, 1.0)}
    print(f"\nSoak ({total} requests): RSS per worker, MB\n")
    print(f"{'worker':>8} | {'10%':>6} {'50%':>6} {'100%':>6} | {'growth':>7} {'peak':>6} slope")
    for pid in pids:
        values = {mark: rss[pid] / 1024 for mark, rss in marks.items()}
        # MB per 10k requests over the samples after 10 % (least squares).
        points = [(d, r[pid] / 1024) for d, r in samples if d >= 0.1 * total and r[pid]]
        slope = float("nan")
        if len(points) > 2:
            mx = sum(d for d, _ in points) / len(points)
            my = sum(r for _, r in points) / len(points)
            var = sum((d - mx) ** 2 for d, _ in points)
            slope = sum((d - mx) * (r - my) for d, r in points) / var * 10_000 if var else 0.0
        print(
            f"{pid:>8} | {values['10%']:>6.1f} {values['50%']:>6.1f} {values['100%']:>6.1f} | "
            f"{values['100%'] - values['10%']:>+7.1f} {peaks[pid] / 1024:>6.1f} "
            f"{slope:+.2f} MB/10k req"
        )
    print(
        "\ngrowth = RSS at 100 % minus RSS at 10 %; peak = VmHWM; slope = least-squares trend "
        f"of the {len(samples)} samples (every {SOAK_SAMPLE_SECONDS:g} s) after 10 %."
    )


def fmt_ratio(value: float, ceiling: float) -> str:
    return f"{value / ceiling:.2f}" if ceiling else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL"))
    parser.add_argument("--scenarios", default="B1,B2,B3,B4")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument(
        "--seeder",
        choices=["api", "sql"],
        default=None,
        help="seed through the API or with bench/seed_sql.py (default: api for small, sql for "
        "full)",
    )
    parser.add_argument(
        "--soak",
        type=int,
        default=0,
        metavar="N",
        help="instead of the scenarios: send N B2 requests to tally and report each worker's "
        "RSS at 10 %%, 50 %% and 100 %% of the run",
    )
    parser.add_argument("--log", default=None, help="server logs (default: a temp file)")
    args = parser.parse_args()
    seeder = args.seeder or ("sql" if args.scale == "full" else "api")

    scenarios = []
    for name in args.scenarios.split(","):
        name = name.strip()
        scenarios += SCENARIO_GROUPS.get(name, [name] if name in CLIENTS else [])
    if not scenarios:
        raise SystemExit(f"no known scenario in {args.scenarios!r}")

    temp_dir = tempfile.mkdtemp(prefix="tally-perf-")
    if args.db == "postgres":
        url = args.postgres_url or DEFAULT_POSTGRES_URL
        asyncio.run(prepare_postgres(url))
    else:
        url = f"sqlite+aiosqlite:///{temp_dir}/bench.db"
    env = {**os.environ, "DATABASE_URL": url, "RATE_LIMIT_CONCURRENCY": "0"}
    env.pop("TEST_MODE", None)
    log_path = Path(args.log) if args.log else Path(temp_dir) / "servers.log"
    log = log_path.open("ab")
    safe_url = make_url(url).render_as_string(hide_password=True)
    print(f"Database {safe_url}, {args.workers} worker(s), scale {args.scale} ({seeder} seed)")

    tally(env, "migrate")
    key = re.search(r"API key \d+: (\S+)", tally(env, "accounts", "create", "--name", "Bench"))
    if key is None:
        raise SystemExit("no API key printed by `tally accounts create`")
    workers = ["--workers", str(args.workers)]
    apps = [
        App("tally", [str(BIN / "tally"), "serve", "--no-migrate", *workers], env, log),
        App(
            "ceiling",
            [
                str(BIN / "uvicorn"),
                "--app-dir",
                str(ROOT / "bench"),
                "--factory",
                "ceiling_app:create_app",
                "--http",
                "h11",
                "--no-server-header",
                "--log-level",
                "warning",
                "--no-access-log",
                *workers,
            ],
            env,
            log,
        ),
    ]

    results: dict[tuple[str, str], dict[str, Any]] = {}
    invariant_problems: list[str] = []
    try:
        base = apps[0].start(free_port())
        if seeder == "sql":
            seeded = asyncio.run(seed_with_sql(base, key.group(1), url, args.scale))
        else:
            seeded = asyncio.run(seed(base, key.group(1), args.scale))
        seeded.big_count = asyncio.run(count_listing(base, seeded))
        print(
            f"  B3 listing: {seeded.big_count} invoices, deep page "
            f"{max(1, seeded.big_count // 100)} of per_page 100"
        )
        apps[0].stop()
        if args.soak:
            soak(apps[0], seeded, args.soak)
            return
        for scenario in scenarios:
            for app in apps:
                base = app.start(free_port())
                sampler = RssSampler(app.workers())
                sampler.start()
                result = run_load(base, scenario, seeded, args.duration)
                peaks = sampler.finish()
                app.stop()
                result["rss_mb"] = max(peaks.values()) / 1024
                result["rss_all"] = sorted(round(v / 1024) for v in peaks.values())
                results[scenario, app.name] = result
                print(
                    f"  {scenario:<9} {app.name:<8} {result['throughput']:8.1f} req/s  "
                    f"p50 {result['p50']:7.1f} ms  p99 {result['p99']:7.1f} ms  "
                    f"errors {result['errors']}  peak RSS/worker {result['rss_all']} MB"
                )
                for sample in result["error_samples"]:
                    print(f"      error: {sample}")
            if scenario.startswith("B4"):
                problems = asyncio.run(payment_invariants(url))
                invariant_problems += [f"{scenario}: {p}" for p in problems]
                print(f"  {scenario} invariants: {'OK' if not problems else problems[:5]}")
    finally:
        for app in apps:
            app.stop()
        log.close()

    head = (
        f"{'scenario':<9} {'cl':>3} | {'tally req/s':>11} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'err':>4} {'RSS MB':>6} | {'ceil req/s':>10} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'err':>4} {'RSS MB':>6} | {'thr x':>5} {'p50 x':>5} {'p99 x':>5} {'RSS x':>5}"
    )
    print(f"\nResults ({args.db}, {args.workers} workers, {args.duration:g} s per run)\n")
    print(head)
    print("-" * len(head))
    for scenario in scenarios:
        t, c = results[scenario, "tally"], results[scenario, "ceiling"]
        print(
            f"{scenario:<9} {CLIENTS[scenario]:>3} | {t['throughput']:>11.1f} {t['p50']:>7.1f} "
            f"{t['p99']:>7.1f} {t['errors']:>4} {t['rss_mb']:>6.0f} | {c['throughput']:>10.1f} "
            f"{c['p50']:>7.1f} {c['p99']:>7.1f} {c['errors']:>4} {c['rss_mb']:>6.0f} | "
            f"{fmt_ratio(t['throughput'], c['throughput']):>5} {fmt_ratio(t['p50'], c['p50']):>5} "
            f"{fmt_ratio(t['p99'], c['p99']):>5} {fmt_ratio(t['rss_mb'], c['rss_mb']):>5}"
        )
    print(
        "\nthr x = tally/ceiling throughput (< 1: tally slower); p50 x, p99 x, RSS x = "
        "tally/ceiling (> 1: tally slower/bigger). RSS = peak of the busiest worker."
    )
    if "B3first" in scenarios and "B3deep" in scenarios:
        print(f"\nB3 deep page {max(1, seeded.big_count // 100)} vs page 1 (p50, target <= 2x):")
        for name in ("tally", "ceiling"):
            first, deep = results["B3first", name]["p50"], results["B3deep", name]["p50"]
            print(
                f"  {name:<8} first {first:7.1f} ms  deep {deep:7.1f} ms  "
                f"deep/first {fmt_ratio(deep, first)}"
            )
    if invariant_problems:
        print(f"\nB4 invariant violations ({len(invariant_problems)}):")
        for problem in invariant_problems[:20]:
            print(f"  {problem}")
    print(f"Server logs: {log_path}")
    sys.exit(1 if invariant_problems else 0)


if __name__ == "__main__":
    main()
