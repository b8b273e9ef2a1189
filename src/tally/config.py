"""Runtime settings, read once from the environment (no prefix: the names are the spec's)."""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/tally.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # Test mode turns on the C23 test hooks and, unless set explicitly, turns off the
    # concurrent-request limit (C15.3).
    test_mode: bool = False
    # C15: concurrent in-flight requests per API key; 0 disables. None = mode default.
    rate_limit_concurrency: int | None = None
    # C20: base URL used in Link headers; empty = derived from the request.
    api_base_url: str = ""
    # C18: base of customer-facing links; empty = API base + "/portal".
    public_base_url: str = ""
    trust_proxy_headers: bool = False
    # Request bodies larger than this are refused with a JSON 413.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # A body still arriving after this many seconds gets a JSON 408 (slow-body clients).
    body_read_timeout_seconds: float = Field(default=30.0, gt=0)
    # C14.4: how long a request waits for a concurrent one with the same idempotency key.
    idempotency_wait_seconds: float = 10.0
    # A claimed-but-unfinished idempotency key older than this is treated as abandoned
    # (its worker crashed) and may be taken over.
    idempotency_lease_seconds: float = 60.0
    db_pool_size: int = 10
    # None = enough extra connections that one key at its C15 limit, its requests all
    # waiting on locks, still leaves connections for every other key (see effective_...).
    db_max_overflow: int | None = None
    sqlite_busy_timeout_ms: int = 30_000

    # Background jobs (issue 5, C23). "embedded": every server process also runs a worker;
    # "off": jobs wait for a separate `tally worker` process.
    worker: Literal["embedded", "off"] = "embedded"
    # How often an idle worker looks for due jobs (a commit in the same process that
    # enqueues a job wakes it at once).
    job_poll_seconds: float = Field(default=1.0, gt=0)
    # Retry n waits min(max, base * 2^(n-1)) seconds of the business clock.
    job_retry_base_seconds: int = Field(default=30, ge=0)
    job_retry_max_seconds: int = Field(default=3600, ge=0)
    # A running job whose worker died is taken over once this lease (wall clock) ends.
    job_lease_seconds: int = Field(default=300, ge=10)

    # Email delivery for accounts whose `email_sending` is `smtp` (emails.md EM10).
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    # "none": plain SMTP; "starttls": upgrade after connecting (port 587);
    # "ssl": implicit TLS from the first byte (port 465).
    smtp_tls: Literal["none", "starttls", "ssl"] = "none"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    # The From address; the display name is the account's name.
    email_from: str = "billing@localhost"

    @cached_property
    def effective_rate_limit(self) -> int:
        if self.rate_limit_concurrency is not None:
            return max(0, self.rate_limit_concurrency)
        return 0 if self.test_mode else 20

    @property
    def effective_max_overflow(self) -> int:
        if self.db_max_overflow is not None:
            return max(0, self.db_max_overflow)
        return max(10, self.effective_rate_limit + 10 - self.db_pool_size)

    @property
    def job_public_base_url(self) -> str:
        """C18 links in what jobs write (events), where there is no request to derive them
        from: the configured public base, else the configured API base + /portal."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        return f"{(self.api_base_url or 'http://127.0.0.1:8000').rstrip('/')}/portal"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
