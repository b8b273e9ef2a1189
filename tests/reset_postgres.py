"""`python -m tests.reset_postgres`: empty the PostgreSQL database named by DATABASE_URL."""

from __future__ import annotations

import asyncio
import os

from tests.support import reset_postgres

if __name__ == "__main__":
    asyncio.run(reset_postgres(os.environ["DATABASE_URL"]))
