"""Catalog items (items.md): the account's price list, at /items and /catalog_items."""
