"""Sending documents by email (emails.md): render, store, deliver (outbox or SMTP)."""
