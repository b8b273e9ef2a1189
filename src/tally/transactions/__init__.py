"""Transactions (transactions_payments.md Part A): the legacy money-movement resource."""
