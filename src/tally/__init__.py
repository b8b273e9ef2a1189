"""Tally: a self-hostable billing server that speaks the Invoiced API."""

__version__ = "0.1.0"
