"""Customers (customers.md)."""
