"""Invoices (invoices.md): documents, line items, applied rates, status and numbering."""
