"""Accounts (tenants) and API keys, managed out of band (C2.8, C21)."""
