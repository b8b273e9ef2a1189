"""Hosted invoice, statement and receipt pages and their PDFs (README C18)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
