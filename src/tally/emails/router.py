"""`POST …/emails` on documents, and the read-only `/emails` outbox (emails.md)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["emails"])
