"""Runtime settings, read once from the environment (no prefix: the names are the spec's)."""

from __future__ import annotations

from functools import cached_property

from pydantic import Field
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
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
