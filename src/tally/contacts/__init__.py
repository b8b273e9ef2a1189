"""Contacts of a customer (customers.md §6)."""
