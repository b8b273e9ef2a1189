"""Payments: money received, split across invoices and the credit balance."""
